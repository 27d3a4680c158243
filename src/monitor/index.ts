/** Watching a namespace's traffic. */
export { MONITOR_TEXT_LIMIT, monitorNamespace } from './monitor.js';
export type { MonitorEvent } from './monitor.js';

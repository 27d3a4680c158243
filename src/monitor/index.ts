/** Watching a namespace's traffic. */
export { MONITOR_TEXT_LIMIT, monitorNamespace } from './monitor.js';
export type {
  MonitorEvent,
  MonitorHandle,
  MonitorMode,
  MonitorOptions,
  MonitorParts,
  MonitorStats,
} from './monitor.js';

/** The web dashboard: a live view of a namespace, and its metrics. */
export { DEFAULT_DASHBOARD_PORT, startDashboard } from './dashboard-server.js';
export type { DashboardOptions, RunningDashboard } from './dashboard-server.js';
export type { DashboardSnapshot } from './snapshot.js';
export { PI_PROGRESS_TOPIC } from './topic-board.js';

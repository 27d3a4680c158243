/**
 * What a supervisor tells its process's report (and so the dashboard and
 * `/metrics`): its children and its recent exits, restarts and escalations,
 * the last {@link SUPERVISION_LOG_SIZE} of them.
 */
import {
  type ActorSystem,
  type SupervisionEventReport,
  type SupervisionReport,
  reportSourcesOf,
} from '../core/index.js';
import type { Supervisor } from './supervisor.js';

/** Events a supervisor keeps for its report. */
export const SUPERVISION_LOG_SIZE = 50;

/** Records `supervisor`'s events and adds them to `system`'s report; returns what stops it. */
export function reportSupervision(system: ActorSystem, supervisor: Supervisor): () => void {
  const events: SupervisionEventReport[] = [];
  const record = (event: SupervisionEventReport): void => {
    if (events.length >= SUPERVISION_LOG_SIZE) events.shift();
    events.push(event);
  };
  supervisor.on('child-exited', (exit) => {
    record({
      at: Date.now(),
      kind: 'exited',
      child: exit.name,
      pid: exit.pid,
      code: exit.code,
      signal: exit.signal,
      detail: exit.reason,
    });
  });
  supervisor.on('child-started', (child) => {
    if (child.restarts === 0) return;
    record({
      at: Date.now(),
      kind: 'restarted',
      child: child.name,
      pid: child.pid,
      code: null,
      signal: null,
      detail: `restart #${child.restarts}`,
    });
  });
  supervisor.on('escalated', (error) => {
    record({
      at: Date.now(),
      kind: 'escalated',
      child: '',
      pid: undefined,
      code: null,
      signal: null,
      detail: error.message,
    });
  });
  return reportSourcesOf(system).addSupervision((): SupervisionReport => ({
    children: supervisor.children().map((child) => ({
      name: child.name,
      state: child.state,
      pid: child.pid,
      address: child.address,
      restarts: child.restarts,
    })),
    events: [...events],
  }));
}

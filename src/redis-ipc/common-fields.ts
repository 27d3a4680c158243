/**
 * The fields redis-ipc adds to every JSON object it writes to a queue or a
 * channel: `timestamp` (a string, seconds with six decimals, as the C library
 * writes it), `component`, `thread` and `tid` (an integer; the process id here,
 * as the Python module does, since Node has no kernel thread id to give).
 * Like the C library, they overwrite fields of the same name.
 */

/** Who is writing: the identity stamped on what we send. */
export interface IpcIdentity {
  component: string;
  thread: string;
  tid: number;
}

/** Now, as redis-ipc writes it: `"1627166512.010806"`. */
export function ipcTimestamp(now = performance.timeOrigin + performance.now()): string {
  const micros = Math.floor(now * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

/** `fields` followed by the common fields of `identity`. */
export function stamped(
  fields: Record<string, unknown>,
  identity: IpcIdentity,
): Record<string, unknown> {
  return {
    ...fields,
    timestamp: ipcTimestamp(),
    component: identity.component,
    thread: identity.thread,
    tid: identity.tid,
  };
}

/** Seconds since the epoch of a redis-ipc `timestamp` (a string, or a number from lenient writers). */
export function parseIpcTimestamp(value: unknown): number | undefined {
  const seconds = typeof value === 'string' ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) ? seconds : undefined;
}

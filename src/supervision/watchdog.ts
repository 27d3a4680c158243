/**
 * The watchdog of a supervised child: a worker thread, so it keeps running
 * while the main thread is busy. Every interval it writes `beat <ms>` on the
 * socket the supervisor gave the child as fd 3, where `<ms>` is how long ago
 * the main thread last ran. The supervisor thus tells "alive but busy" (beats
 * keep coming, the main-thread age grows for a while) from "hung" (the age
 * passes hangTimeoutMs) and "frozen or dead" (no beats at all) — heartbeats are
 * never starved by a busy event loop.
 *
 * The same socket tells the child its supervisor died (even by SIGKILL): it
 * reads end-of-file. The watchdog then sends SIGTERM to its own process, for a
 * graceful stop, and SIGKILL after `orphanGraceMs` if the main thread cannot
 * react, so no child outlives its supervisor.
 */
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';

/** The file descriptor of the supervisor's socket in a supervised child. */
export const SUPERVISOR_FD = 3;

// Plain CommonJS evaluated in the worker: no module resolution or TypeScript loader involved.
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const net = require('node:net');
const { fd, intervalMs, orphanGraceMs } = workerData;
const mainThreadRanAt = new BigInt64Array(workerData.progress);
const socket = new net.Socket({ fd, readable: true, writable: true });
let orphaned = false;
function orphan() {
  if (orphaned) return;
  orphaned = true;
  clearInterval(beats);
  try { process.kill(process.pid, 'SIGTERM'); } catch {}
  setTimeout(() => { try { process.kill(process.pid, 'SIGKILL'); } catch {} }, orphanGraceMs);
}
socket.on('data', () => {});
socket.on('end', orphan);
socket.on('close', orphan);
socket.on('error', orphan);
const beats = setInterval(() => {
  const age = Date.now() - Number(Atomics.load(mainThreadRanAt, 0));
  socket.write('beat ' + age + '\\n');
}, intervalMs);
`;

export interface WatchdogOptions {
  intervalMs: number;
  /** Time a graceful stop gets after the supervisor died, before SIGKILL. */
  orphanGraceMs: number;
}

/** Whether this process was given a supervisor socket as fd 3. */
export function hasSupervisorSocket(): boolean {
  try {
    return fs.fstatSync(SUPERVISOR_FD).isSocket();
  } catch {
    return false;
  }
}

/** Starts the watchdog thread and the main-thread progress marker it reads. */
export function startWatchdog(options: WatchdogOptions): void {
  const progress = new SharedArrayBuffer(8);
  const mainThreadRanAt = new BigInt64Array(progress);
  const mark = (): void => {
    Atomics.store(mainThreadRanAt, 0, BigInt(Date.now()));
  };
  mark();
  setInterval(mark, Math.max(10, Math.floor(options.intervalMs / 4))).unref();
  const worker = new Worker(WATCHDOG_SOURCE, {
    eval: true,
    workerData: { fd: SUPERVISOR_FD, progress, ...options },
  });
  worker.unref();
}

/** A process's CPU time, as every bench process samples it (see cpu.ts for what is made of it). */

export interface CpuSample {
  /** CLOCK_MONOTONIC, in nanoseconds: the same clock in every process. */
  atNs: number;
  userUs: number;
  systemUs: number;
  /** Messages this process has counted so far (asks completed, tells received); 0 if none. */
  count: number;
}

/** This process's CPU time so far (getrusage: every thread, main, GC, libuv pool). */
export function cpuSample(count = 0): CpuSample {
  const { user, system } = process.cpuUsage();
  return { atNs: Number(process.hrtime.bigint()), userUs: user, systemUs: system, count };
}

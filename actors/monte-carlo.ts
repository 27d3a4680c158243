/**
 * The Monte-Carlo estimate of π: points uniform in the unit square, counted
 * when inside the quarter disc. A batch is a tight loop over a fast seeded
 * generator (sfc32), so millions of samples cost milliseconds.
 */
import { randomBytes } from 'node:crypto';

/** One batch's result: how many of `total` points fell inside the quarter disc. */
export interface SampleCounts {
  inside: number;
  total: number;
}

/** sfc32: a small, fast, statistically solid 32-bit generator, seeded from the OS. */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: Buffer = randomBytes(12)) {
    this.a = seed.readUInt32LE(0);
    this.b = seed.readUInt32LE(4);
    this.c = seed.readUInt32LE(8);
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
}

const TO_UNIT = 1 / 4294967296;

/** Draws `total` points and counts those with x² + y² ≤ 1. */
export function sampleQuarterDisc(generator: Sfc32, total: number): SampleCounts {
  let inside = 0;
  for (let i = 0; i < total; i++) {
    const x = generator.next() * TO_UNIT;
    const y = generator.next() * TO_UNIT;
    if (x * x + y * y <= 1) inside++;
  }
  return { inside, total };
}

/** The estimate 4·p and its standard error 4·√(p(1−p)/n), from totals. */
export function estimatePi(
  inside: number,
  total: number,
): { estimate: number; standardError: number } {
  if (total === 0) return { estimate: Number.NaN, standardError: Number.POSITIVE_INFINITY };
  const p = inside / total;
  return { estimate: 4 * p, standardError: 4 * Math.sqrt((p * (1 - p)) / total) };
}

import { describe, expect, it } from 'vitest';
import { BATCH_WINDOW_SIZE, BatchWindow, batchSeq } from '../../actors/batch-window.js';

describe('batch ids', () => {
  it('reads the seq of `<sender>#<seq>` only', () => {
    expect(batchSeq('h2-41#0', 'h2-41')).toBe(0);
    expect(batchSeq('h2-41~2#57', 'h2-41~2')).toBe(57);
    expect(batchSeq(`h2-41#${'9'.repeat(15)}`, 'h2-41')).toBe(999_999_999_999_999);
    for (const id of [
      'h2-42#1', // another sender's
      'h2-41~2#1',
      'h2-41', // no seq
      'h2-41#',
      'h2-41#01', // not canonical: two spellings of one id
      'h2-41#-1',
      'h2-41#1.5',
      'h2-41#1e3',
      'h2-41# 1',
      `h2-41#${'9'.repeat(16)}`, // beyond the safe integers
      `h2-41#1${'x'.repeat(10_000)}`,
      12,
      null,
      { toString: () => 'h2-41#1' },
    ]) {
      expect(batchSeq(id, 'h2-41'), String(id).slice(0, 40)).toBeUndefined();
    }
  });
});

describe('BatchWindow', () => {
  it('counts each seq once, in order or resent', () => {
    const window = new BatchWindow();
    const counted: number[] = [];
    for (const seq of [0, 0, 1, 2, 2, 2, 3, 1, 0, 4]) {
      if (!window.has(seq)) {
        window.add(seq);
        counted.push(seq);
      }
    }
    expect(counted).toEqual([0, 1, 2, 3, 4]);
    expect(window.remembered).toBe(0);
  });

  it('fills gaps within the window, forgets what falls below it, never remembers more than its size', () => {
    const window = new BatchWindow(8);
    window.add(0);
    window.add(2); // 1 lost, or late
    expect(window.has(1)).toBe(false);
    expect(window.remembered).toBe(1);
    window.add(1);
    expect(window.remembered).toBe(0);
    // A jump past the window: what is skipped counts as seen from then on.
    window.add(100);
    expect(window.has(92)).toBe(true);
    expect(window.has(93)).toBe(false);
    expect(window.has(100)).toBe(true);
    expect(window.has(101)).toBe(false);
    // Every other seq of 10,000: memory stays within the window.
    const big = new BatchWindow();
    for (let seq = 0; seq < 10_000; seq += 2) {
      big.add(seq);
      expect(big.remembered).toBeLessThanOrEqual(BATCH_WINDOW_SIZE);
    }
    expect(big.has(9998)).toBe(true);
    expect(big.has(9997)).toBe(false);
  });
});

/** A `$report` answer is anyone's JSON: read field by field, capped, or refused. */
import { describe, expect, it } from 'vitest';
import { REPORT_LIMITS, readReport } from '../../src/dashboard/report-reader.js';

describe('readReport', () => {
  it('refuses what is not a report of the process asked', () => {
    for (const value of [null, 42, 'report', [], { system: 'other-1' }])
      expect(readReport(value, 'host-1')).toBeUndefined();
  });

  it('caps lists, cuts strings, and zeroes what is not a count', () => {
    const hostile = {
      system: 'host-1',
      host: 'h'.repeat(10_000),
      pid: -5,
      uptimeMs: Number.NaN,
      memory: { rss: '1e9', heapUsed: 1e308 },
      sentByKind: { tell: Infinity, ask: -1, reply: 3, error: 'x', extra: 7 },
      dropped: { invalid: 2, __proto__: { polluted: true } },
      askDurations: { bounds: [1, 2, 3], counts: [1, 2, 3, 4], sum: 5, count: 10 },
      actors: Array.from({ length: 10_000 }, (_, i) => ({
        address: `a-${i}`,
        name: i === 0 ? 'n'.repeat(1000) : `actor-${i}`,
        handled: i,
        handledByType:
          i < 3 ? Object.fromEntries(Array.from({ length: 1000 }, (_, t) => [`t${t}`, t])) : {},
      })),
      supervisor: { not: 'a string' },
      supervision: {
        children: Array.from({ length: 2000 }, (_, i) => ({ name: `c${i}`, state: 'running' })),
        events: [
          { kind: 'restarted', at: 1, child: 'w', detail: 'd'.repeat(10_000) },
          { kind: 'exploded', at: 2 },
        ],
      },
    };
    const report = readReport(hostile, 'host-1');
    expect(report).toBeDefined();
    expect(report?.host).toBe('?');
    expect(report?.pid).toBe(0);
    expect(report?.uptimeMs).toBe(0);
    expect(report?.memory).toEqual({ rss: 0, heapUsed: 1e308 });
    expect(report?.sentByKind).toEqual({ tell: 0, ask: 0, reply: 3, error: 0 });
    expect(report?.askDurations.count).toBe(0);
    expect(report?.actors.length).toBe(REPORT_LIMITS.actors);
    expect(report?.actors[0]?.name).toBeUndefined();
    expect(Object.keys(report?.actors[1]?.handledByType ?? {}).length).toBe(REPORT_LIMITS.types);
    expect(report?.supervisor).toBeUndefined();
    expect(report?.supervision?.children.length).toBe(REPORT_LIMITS.children);
    expect(report?.supervision?.events.map((event) => event.kind)).toEqual(['restarted']);
    expect(report?.supervision?.events[0]?.detail.length).toBe(500);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

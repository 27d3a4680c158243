/**
 * The receiving side's check of a one-way message (a tell, a stream entry, a
 * job): there is no reply to hold against the request, so what arrived must
 * be exactly a request body of shapes.ts. Speed for mangled messages is not
 * reported: the orchestrator fails the run when `mismatches` is not 0.
 */
import { requestBody } from './shapes.js';

export class OneWayCheck {
  mismatches = 0;
  check(body: unknown): void {
    const { i, s, ...rest } = (body ?? {}) as { i?: unknown; s?: unknown };
    const ok =
      Number.isSafeInteger(i) &&
      (i as number) >= 0 &&
      s === requestBody(0).s &&
      Object.keys(rest).length === 0;
    if (!ok) this.mismatches++;
  }
}

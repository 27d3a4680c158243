/**
 * What the dashboard shows of the namespace's topics: per topic, how many
 * payloads passed, the last few as text, and who spoke (the `name` field chat
 * messages carry); and, from the pi example's `pi.progress` topic, the
 * estimate of π over time. Payloads are anyone's: each is cut, parsed only
 * when small, and every collection here is capped.
 */
import { SIGNED_HEADER_BYTES, isSigned } from '../wire/index.js';
import { DASHBOARD_LIMITS, type PiPoint, type TopicView } from './snapshot.js';

/** The topic the pi collector publishes its progress on, once a second. */
export const PI_PROGRESS_TOPIC = 'pi.progress';
/** Topics tracked at once; the least recently active one makes room for a new one. */
const MAX_TOPICS = 200;
const MAX_TEXT = 200;
const MAX_SPEAKERS = 20;
/** Payloads larger than this are shown, not parsed. */
const MAX_PARSED_BYTES = 64 * 1024;

interface TopicState {
  messages: number;
  lastAt: number;
  recent: { at: number; text: string }[];
  speakers: string[];
}

function parsed(payload: Buffer): Record<string, unknown> | undefined {
  if (payload.length > MAX_PARSED_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export class TopicBoard {
  private readonly topics = new Map<string, TopicState>();
  private piPoints: PiPoint[] = [];
  private piContributors = 0;
  private piDone = false;

  /** A payload published on topic `name`. */
  saw(name: string, raw: Buffer, at = Date.now()): void {
    const payload = isSigned(raw) ? raw.subarray(SIGNED_HEADER_BYTES) : raw;
    const state = this.stateOf(name, at);
    state.messages++;
    state.lastAt = at;
    const head = payload.subarray(0, MAX_TEXT * 4).toString('utf8');
    state.recent.push({ at, text: head.length > MAX_TEXT ? `${head.slice(0, MAX_TEXT)}…` : head });
    if (state.recent.length > DASHBOARD_LIMITS.recentPerTopic) state.recent.shift();
    const value = parsed(payload);
    const speaker = value?.name;
    if (typeof speaker === 'string' && speaker.length > 0 && speaker.length <= 40) {
      const known = state.speakers.indexOf(speaker);
      if (known >= 0) state.speakers.splice(known, 1);
      state.speakers.push(speaker);
      if (state.speakers.length > MAX_SPEAKERS) state.speakers.shift();
    }
    if (name === PI_PROGRESS_TOPIC && value !== undefined) this.piProgress(value, at);
  }

  /** The busiest topics, for a snapshot; `subscribers` by name when known. */
  views(subscribers: ReadonlyMap<string, number>): TopicView[] {
    return [...this.topics]
      .sort((a, b) => b[1].messages - a[1].messages)
      .slice(0, DASHBOARD_LIMITS.topics)
      .map(([name, state]) => ({
        name,
        subscribers: subscribers.get(name),
        messages: state.messages,
        recent: [...state.recent],
        speakers: [...state.speakers],
      }));
  }

  /** Names of the topics a snapshot shows. */
  shownNames(): string[] {
    return this.views(new Map()).map((view) => view.name);
  }

  pi(): { points: PiPoint[]; contributors: number; done: boolean } | undefined {
    if (this.piPoints.length === 0) return undefined;
    return { points: [...this.piPoints], contributors: this.piContributors, done: this.piDone };
  }

  private stateOf(name: string, at: number): TopicState {
    let state = this.topics.get(name);
    if (state !== undefined) return state;
    if (this.topics.size >= MAX_TOPICS) {
      let quietest: string | undefined;
      let quietestAt = Number.POSITIVE_INFINITY;
      for (const [each, { lastAt }] of this.topics) {
        if (lastAt < quietestAt) [quietest, quietestAt] = [each, lastAt];
      }
      if (quietest !== undefined) this.topics.delete(quietest);
    }
    state = { messages: 0, lastAt: at, recent: [], speakers: [] };
    this.topics.set(name, state);
    return state;
  }

  private piProgress(value: Record<string, unknown>, at: number): void {
    const samples = finite(value.samples);
    const estimate = finite(value.estimate);
    const standardError = finite(value.standardError);
    if (samples === undefined || estimate === undefined || standardError === undefined) return;
    if (samples < 0 || standardError < 0) return;
    const last = this.piPoints.at(-1);
    // A new run (fewer samples than before) starts a new chart.
    if (last !== undefined && samples < last.samples) this.piPoints = [];
    this.piPoints.push({ at, samples, estimate, standardError });
    // Past the cap, every other point goes: the whole run stays in view at half the detail.
    if (this.piPoints.length > DASHBOARD_LIMITS.piPoints)
      this.piPoints = this.piPoints.filter((_, index) => index % 2 === 1);
    this.piContributors = Math.min(finite(value.contributors) ?? 0, 1e6);
    this.piDone = value.done === true;
  }
}

/**
 * One watch of shared values: turns the write script's notifications into
 * callbacks, in the order of the updates, and catches up after a reconnect.
 * Notifications may come from anyone (it is a pub/sub channel): anything that
 * is not one, or holds values redis-actors never stores, is ignored and logged.
 */
import { treeProblem } from '../wire/index.js';
import type { SharedValues, ValueChange } from './shared-values.js';
import { mayNeedRevival, reviveValue } from './value-codec.js';

/** A notification as published by the write script. */
interface Notification {
  version: number;
  values?: Record<string, unknown>;
  names?: string[];
  deleted?: string[];
}

/** A read of some values together with the version they belong to. */
export interface Snapshot {
  version: number;
  values: Record<string, unknown>;
}

/** What a watch needs of its SharedValues, whatever the schema. */
type WatchSource = Pick<SharedValues, 'group' | 'key' | 'channel' | 'snapshot' | 'logOnce'>;

/** One watch: turns notifications into callbacks, in order, and catches up after reconnects. */
export class Watcher {
  private readonly watched: Set<string>;
  /** The group version last seen (notification or read), for the reconnect re-read. */
  private lastVersion: number | undefined;
  /** A re-read delivered this version: notifications up to it are already reflected. */
  private rereadVersion = 0;
  /** Deliveries waiting behind a read, so callbacks keep the order of updates. */
  private queue: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly values: WatchSource,
    private readonly names: readonly string[],
    private readonly deliver: (values: Record<string, unknown>, change: ValueChange) => void,
    private readonly maxNestingDepth: number,
  ) {
    this.watched = new Set(names);
  }

  /** Learns the current version, so that a reconnect can tell whether anything was missed. */
  start(): void {
    this.values.snapshot([]).then(
      ({ version }) => {
        this.lastVersion ??= version;
      },
      () => undefined, // The next notification or re-read sets it.
    );
  }

  stop(): void {
    this.stopped = true;
  }

  notified(payload: Buffer): void {
    if (this.stopped) return;
    const text = payload.toString('utf8');
    const notification = parseNotification(text, this.maxNestingDepth);
    if (notification === undefined) {
      this.values.logOnce(
        `values-notification:${this.values.channel}`,
        `ignored a payload on ${this.values.channel} that is not a values notification: ${text.slice(0, 200)}`,
      );
      return;
    }
    const { version } = notification;
    if (version <= this.rereadVersion) return;
    this.lastVersion = version;
    const watched = (names: readonly string[] | undefined): string[] =>
      (names ?? []).filter((name) => this.watched.has(name));
    const deleted = watched(notification.deleted);
    if (notification.names === undefined) {
      const inline = notification.values ?? {};
      const set = watched(Object.keys(inline));
      if (set.length === 0 && deleted.length === 0) return;
      const revive = mayNeedRevival(text);
      const values: Record<string, unknown> = {};
      for (const name of set) values[name] = revive ? reviveValue(inline[name]) : inline[name];
      this.enqueue(() => {
        this.deliver(values, { version, names: [...set, ...deleted] });
      });
      return;
    }
    // Too large to travel inline: read the values (they may be newer by then; the version says).
    const fetched = watched(notification.names);
    if (fetched.length === 0 && deleted.length === 0) return;
    this.enqueue(async () => {
      const snapshot = await this.values.snapshot(fetched);
      this.deliver(snapshot.values, {
        version: Math.max(version, snapshot.version),
        names: [...fetched, ...deleted],
      });
    });
  }

  /** After a reconnect: anything missed while disconnected is read and delivered. */
  reread(): void {
    if (this.stopped) return;
    this.enqueue(async () => {
      const snapshot = await this.values.snapshot(this.names);
      if (snapshot.version === this.lastVersion) return;
      this.lastVersion = snapshot.version;
      this.rereadVersion = snapshot.version;
      this.deliver(snapshot.values, { version: snapshot.version, names: [...this.names] });
    });
  }

  /** Runs `step` now when nothing waits, else after what waits. */
  private enqueue(step: () => void | Promise<void>): void {
    const run = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        await step();
      } catch (error) {
        this.values.logOnce(
          `values-watch-read:${this.values.key}`,
          `a watch of values "${this.values.group}" could not read them: ${String(error)}`,
        );
      }
    };
    if (this.queue === undefined) {
      // Runs at once (a callback without a read is called synchronously); later steps wait for it.
      const pending = run().then(() => {
        if (this.queue === pending) this.queue = undefined;
      });
      this.queue = pending;
      return;
    }
    const next = this.queue.then(run).then(() => {
      if (this.queue === next) this.queue = undefined;
    });
    this.queue = next;
  }
}

/** A notification from the write script, or undefined for anything else (it may come from anyone). */
function parseNotification(text: string, maxDepth: number): Notification | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  // `{"values":{"<name>":<value>}}`: two levels above a value.
  if (treeProblem(parsed, maxDepth + 2) !== undefined) return undefined;
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { version, values, names, deleted } = parsed as Record<string, unknown>;
  if (typeof version !== 'number' || !Number.isSafeInteger(version)) return undefined;
  const isObject = typeof values === 'object' && values !== null && !Array.isArray(values);
  const isNames = (list: unknown): list is string[] =>
    Array.isArray(list) && list.every((item) => typeof item === 'string');
  if (values !== undefined && !isObject) return undefined;
  if (names !== undefined && !isNames(names)) return undefined;
  if (deleted !== undefined && !isNames(deleted)) return undefined;
  return parsed as Notification;
}

/**
 * Topics: named broadcast channels carrying plain JSON, not envelopes, so any
 * Redis client can take part (`redis-cli PUBLISH ra:topic:chat.lobby
 * '{"name":"bob","message":"hi"}'`, as in the seeds). A topic `t` is the
 * channel `<namespace>:topic:<t>`.
 *
 * With a namespace secret, values are signed like everything else (and
 * unsigned ones refused), unless the topic is opened with `unsigned: true`:
 * then it publishes plain JSON and takes plain JSON from anyone, as the
 * seed's `redis-cli PUBLISH` chat needs.
 */
import { MessageTooLargeError, NoRecipientError } from '../errors.js';
import type { ChannelListeners, Transport, Unsubscribe } from '../transport/index.js';
import {
  type PayloadAuth,
  Refusal,
  describeProblem,
  isSigned,
  parseUntrusted,
} from '../wire/index.js';

/** Options of {@link ActorSystem.topic}. */
export interface TopicOptions {
  /**
   * With a namespace secret: publish plain JSON and accept plain JSON from
   * any client (signed values are still verified). Without a secret topics are
   * always plain.
   * @default false
   */
  unsigned?: boolean;
}

/** What a topic needs from its actor system. @internal */
export interface TopicLimits {
  maxMessageBytes: number;
  maxNestingDepth: number;
  /** The namespace secret, when there is one. */
  auth: PayloadAuth | undefined;
  unsigned: boolean;
}

/** What a topic subscriber is given for a payload that is not JSON. */
export type InvalidPayloadHandler = (raw: string, problem: string) => void;

export class Topic<T = unknown> {
  private readonly maxMessageBytes: number;
  private readonly maxNestingDepth: number;
  /** Signs what this topic publishes and verifies what it receives; undefined: plain JSON. */
  private readonly auth: PayloadAuth | undefined;
  private readonly unsigned: boolean;

  /** @internal */
  constructor(
    /** The topic's name. */
    readonly name: string,
    /** The Redis channel it travels on, `<namespace>:topic:<name>`. */
    readonly channel: string,
    private readonly transport: Transport,
    private readonly listeners: ChannelListeners,
    limits: TopicLimits,
  ) {
    this.maxMessageBytes = limits.maxMessageBytes;
    this.maxNestingDepth = limits.maxNestingDepth;
    this.auth = limits.auth;
    this.unsigned = limits.unsigned;
  }

  /**
   * Publishes `value` as JSON; resolves with how many subscribers received it
   * (0 is not an error for a broadcast). Throws MessageTooLargeError over the limit.
   */
  publish(value: T): Promise<number> {
    const text = JSON.stringify(value);
    const size = Buffer.byteLength(text);
    if (size > this.maxMessageBytes)
      return Promise.reject(new MessageTooLargeError(size, this.maxMessageBytes));
    const payload =
      this.auth === undefined || this.unsigned ? text : this.auth.signText(this.channel, text);
    return new Promise((resolve, reject) => {
      this.transport.publish(this.channel, payload, (error, receivers) => {
        if (error === null) resolve(receivers);
        else reject(error);
      });
    });
  }

  /** Like {@link publish}, but rejects with NoRecipientError when nobody listens. */
  async publishToSomeone(value: T): Promise<number> {
    const receivers = await this.publish(value);
    if (receivers === 0) throw new NoRecipientError(`topic ${this.name}`, this.channel);
    return receivers;
  }

  /**
   * Calls `onValue` with each JSON value published on the topic (by anyone),
   * `onInvalid` with each payload that is not JSON, is larger than the limit,
   * is nested deeper than `maxNestingDepth`, or has an own `__proto__`,
   * `constructor` or `prototype` key (what a naive merge would follow into a
   * prototype). Resolves once Redis confirmed the subscription. A callback
   * that throws is counted (`listener-threw`) and logged; later values still arrive.
   */
  subscribe(
    onValue: (value: T) => void,
    onInvalid: InvalidPayloadHandler = () => undefined,
  ): Promise<Unsubscribe> {
    return this.listeners.add(this.channel, (received) => {
      let payload = received;
      if (this.auth !== undefined && (!this.unsigned || isSigned(received))) {
        const inner = this.auth.verify(this.channel, received);
        if (inner instanceof Refusal) {
          onInvalid('', `${inner.reason}: ${inner.detail}`);
          return;
        }
        payload = inner;
      }
      if (payload.length > this.maxMessageBytes) {
        onInvalid(
          payload.subarray(0, 200).toString('utf8'),
          `${payload.length} bytes, over the ${this.maxMessageBytes}-byte limit`,
        );
        return;
      }
      const raw = payload.toString('utf8');
      const parsed = parseUntrusted(raw, this.maxNestingDepth);
      if ('problem' in parsed) {
        const problem = parsed.problem;
        onInvalid(
          raw.length > 200 ? `${raw.slice(0, 200)}…` : raw,
          problem.reason === 'not-json' ? `not JSON: ${problem.detail}` : describeProblem(problem),
        );
        return;
      }
      onValue(parsed.value as T);
    });
  }
}

/**
 * One client's membership of a chat room, on redis-actors:
 *
 * - traffic: the topic `chat.<room>`, i.e. the channel `<namespace>:topic:chat.<room>`;
 * - presence: an actor named `chat.<room>.<nick>`, listed by the framework registry;
 * - history: the list `<namespace>:chat:<room>:history`, capped at the last 50 messages.
 *
 * Both are open to any Redis client: what is read from them goes through
 * parseRoomPayload, and payloads are parsed only up to a size, the system's
 * `maxMessageBytes` on the channel (main.ts sets it to MAX_PAYLOAD_BYTES) and
 * MAX_PAYLOAD_BYTES in the history.
 */
import {
  type ActorSystem,
  MessageTooLargeError,
  type Topic,
  type Unsubscribe,
  defineActor,
} from 'redis-actors';
import {
  type ChatMessage,
  type NickNotice,
  type PresenceNotice,
  MAX_MESSAGE_LENGTH,
  MAX_PAYLOAD_BYTES,
  type RoomPayload,
  describePayload,
  parseRoomPayload,
} from './messages.js';

/** How many messages a room keeps and shows to newcomers. */
export const HISTORY_LENGTH = 50;

/**
 * Appends a message to the history, trims it and publishes it in one step, so
 * that the history holds messages in the order the channel carried them.
 * KEYS[1] history, ARGV[1] channel, ARGV[2] message, ARGV[3] history length.
 */
const SAY_SCRIPT = `
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
return redis.call('PUBLISH', ARGV[1], ARGV[2])`;

/**
 * Reads the history and publishes our join notice in one step: every message
 * the channel carries before that notice is in the history we read, every one
 * after it is not. Same arguments as SAY_SCRIPT, ARGV[2] being the notice;
 * entries longer than ARGV[4] bytes (anyone can push to the list) come back
 * empty, so they are never transferred, only counted as not chat messages.
 */
const JOIN_SCRIPT = `
local history = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[3]), -1)
for i, entry in ipairs(history) do
  if #entry > tonumber(ARGV[4]) then history[i] = '' end
end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return history`;

export interface ChatRoomOptions {
  system: ActorSystem;
  room: string;
  nick: string;
  /** Where the room prints what happens in it, one line at a time. */
  show: (line: string) => void;
}

type State = 'joining' | 'joined' | 'left';

export class ChatRoom {
  private readonly system: ActorSystem;
  private readonly room: string;
  private readonly show: (line: string) => void;
  private readonly topic: Topic<RoomPayload>;
  private readonly historyKey: string;
  private nickValue: string;
  private state: State = 'joining';
  private unsubscribe: Unsubscribe | undefined;
  private readonly joinedAt = Date.now();
  /** While joining: what arrived before our own join notice, and after it. */
  private readonly beforeOwnJoin: RoomPayload[] = [];
  private readonly afterOwnJoin: RoomPayload[] = [];
  private ownJoinSeen = false;
  private onOwnJoin: () => void = () => undefined;
  /** Set while leaving: called when our own leave notice comes back. */
  private onOwnLeave: (() => void) | undefined;
  private notChatMessages = 0;

  /** The presence actor; it also answers `whois` for other programs. */
  private readonly presence = defineActor({
    handlers: {
      whois: () => ({ nick: this.nickValue, room: this.room, joinedAt: this.joinedAt }),
    },
  });

  private constructor(options: ChatRoomOptions) {
    this.system = options.system;
    this.room = options.room;
    this.nickValue = options.nick;
    this.show = options.show;
    this.topic = options.system.topic<RoomPayload>(`chat.${options.room}`);
    this.historyKey = options.system.key('chat', options.room, 'history');
  }

  /**
   * Registers the nick (NameTakenError when someone in the room has it),
   * subscribes, prints the history and announces the newcomer.
   */
  static async join(options: ChatRoomOptions): Promise<ChatRoom> {
    const chatRoom = new ChatRoom(options);
    await chatRoom.enter();
    return chatRoom;
  }

  get nick(): string {
    return this.nickValue;
  }

  /**
   * Sends a message. Throws when it is longer than MAX_MESSAGE_LENGTH (the
   * others would not show it), or MessageTooLargeError past the system's size limit.
   */
  async say(message: string): Promise<void> {
    if (message.length > MAX_MESSAGE_LENGTH) {
      throw new Error(
        `a message has at most ${MAX_MESSAGE_LENGTH} characters, this one ${message.length}`,
      );
    }
    const payload = JSON.stringify({ name: this.nickValue, message } satisfies ChatMessage);
    const size = Buffer.byteLength(payload);
    const limit = this.system.options.maxMessageBytes;
    if (size > limit) throw new MessageTooLargeError(size, limit);
    await this.runScript(SAY_SCRIPT, payload);
  }

  /** Nicks present in the room, according to the registry, sorted. */
  async who(): Promise<string[]> {
    const prefix = this.actorName('');
    // A Set: a client that crashed stays listed until its presence expires, and
    // its nick may have been taken again meanwhile.
    const nicks = new Set<string>();
    for (const actor of await this.system.registry.list()) {
      if (actor.name?.startsWith(prefix) === true) nicks.add(actor.name.slice(prefix.length));
    }
    return [...nicks];
  }

  /** Changes nick (NameTakenError when someone in the room has it) and announces it. */
  async rename(newNick: string): Promise<void> {
    const previous = this.nickValue;
    // The new name first: when it is taken, we still hold the old one.
    await this.system.spawn(this.presence, { name: this.actorName(newNick) });
    await this.system.stopActor(this.actorName(previous));
    this.nickValue = newNick;
    await this.topic.publish({ name: newNick, event: 'nick', previous } satisfies NickNotice);
  }

  /**
   * Leaves the registry, then tells the room and waits (up to `flushTimeoutMs`)
   * until that notice comes back: the channel keeps its order, so everything
   * published before it, our own last messages included, has been shown.
   */
  async leave(flushTimeoutMs = 2000): Promise<void> {
    if (this.state !== 'joined') {
      this.state = 'left';
      await this.unsubscribe?.();
      return;
    }
    await this.system.stopActor(this.actorName(this.nickValue));
    const ownLeaveArrived = new Promise<void>((resolve) => {
      this.onOwnLeave = resolve;
    });
    await this.topic.publish({ name: this.nickValue, event: 'leave' } satisfies PresenceNotice);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ownLeaveArrived,
      new Promise((resolve) => (timer = setTimeout(resolve, flushTimeoutMs))),
    ]);
    clearTimeout(timer);
    this.state = 'left';
    if (this.notChatMessages > 1) {
      this.show(
        `(ignored ${this.notChatMessages} things on the channel that were not chat messages)`,
      );
    }
    await this.unsubscribe?.();
  }

  private async enter(): Promise<void> {
    // Registered before the join notice goes out, so /who after it shows the newcomer.
    await this.system.spawn(this.presence, { name: this.actorName(this.nickValue) });
    const ownJoinArrived = new Promise<void>((resolve) => {
      this.onOwnJoin = resolve;
    });
    this.unsubscribe = await this.topic.subscribe(
      (value) => {
        this.receive(value);
      },
      () => {
        this.ignoreNotChatMessage();
      },
    );
    const notice: PresenceNotice = { name: this.nickValue, event: 'join' };
    const history = await this.runScript(JOIN_SCRIPT, JSON.stringify(notice));
    await ownJoinArrived;
    this.showHistory(Array.isArray(history) ? history : []);
    this.show(`joined #${this.room} as ${this.nickValue} (commands: /who, /nick <new>, /quit)`);
    for (const payload of this.afterOwnJoin) this.show(describePayload(payload, this.room));
    this.state = 'joined';
  }

  private showHistory(entries: unknown[]): void {
    const history: RoomPayload[] = [];
    for (const entry of entries) {
      const payload = parseEntry(entry);
      if (payload === undefined) this.ignoreNotChatMessage();
      else history.push(payload);
    }
    if (history.length > 0) {
      const count = history.length === 1 ? 'message' : `${history.length} messages`;
      this.show(`-- the last ${count} of #${this.room} --`);
    }
    for (const payload of history) this.show(describePayload(payload, this.room));
    // What the channel carried between our subscription and our join notice is
    // in the history too, unless it was published without going through it
    // (redis-cli PUBLISH, join and leave notices): show those, once each.
    const inHistory = new Map<string, number>();
    for (const payload of history) {
      const text = JSON.stringify(payload);
      inHistory.set(text, (inHistory.get(text) ?? 0) + 1);
    }
    for (const payload of this.beforeOwnJoin) {
      const text = JSON.stringify(payload);
      const copies = inHistory.get(text) ?? 0;
      if (copies > 0) inHistory.set(text, copies - 1);
      else this.show(describePayload(payload, this.room));
    }
  }

  private receive(value: unknown): void {
    if (this.state === 'left') return;
    const payload = parseRoomPayload(value);
    if (payload === undefined) {
      this.ignoreNotChatMessage();
    } else if (this.state === 'joined') {
      if (this.onOwnLeave !== undefined && isEventOf(payload, 'leave', this.nickValue)) {
        this.onOwnLeave();
      } else {
        this.show(describePayload(payload, this.room));
      }
    } else if (!this.ownJoinSeen && isEventOf(payload, 'join', this.nickValue)) {
      this.ownJoinSeen = true;
      this.onOwnJoin();
    } else {
      (this.ownJoinSeen ? this.afterOwnJoin : this.beforeOwnJoin).push(payload);
    }
  }

  /** One notice for the first thing that is not a chat message; the rest are counted. */
  private ignoreNotChatMessage(): void {
    if (this.notChatMessages++ === 0) {
      this.show('(ignored something on the channel that is not a chat message)');
    }
  }

  private actorName(nick: string): string {
    return `chat.${this.room}.${nick}`;
  }

  private runScript(script: string, payload: string): Promise<unknown> {
    return this.system.command([
      'EVAL',
      script,
      '1',
      this.historyKey,
      this.topic.channel,
      payload,
      String(HISTORY_LENGTH),
      String(MAX_PAYLOAD_BYTES),
    ]);
  }
}

function isEventOf(payload: RoomPayload, event: 'join' | 'leave', nick: string): boolean {
  return 'event' in payload && payload.event === event && payload.name === nick;
}

/** A history entry (a Buffer holding JSON) as a payload, or undefined when it is not one. */
function parseEntry(entry: unknown): RoomPayload | undefined {
  if (!Buffer.isBuffer(entry)) return undefined;
  try {
    return parseRoomPayload(JSON.parse(entry.toString('utf8')));
  } catch {
    return undefined;
  }
}

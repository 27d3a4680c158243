/**
 * What travels on a room's topic, and how it is printed.
 *
 * A chat message is the seed's plain JSON, `{"name": …, "message": …}`, so
 * any Redis client can take part with a bare PUBLISH. Join, leave and nick
 * notices are further shapes on the same channel, told apart by `event`.
 */

/** A line someone said in the room. */
export interface ChatMessage {
  name: string;
  message: string;
}

/** Someone came in or went out. */
export interface PresenceNotice {
  name: string;
  event: 'join' | 'leave';
}

/** Someone changed nick from `previous` to `name`. */
export interface NickNotice {
  name: string;
  event: 'nick';
  previous: string;
}

export type RoomPayload = ChatMessage | PresenceNotice | NickNotice;

/** Longest name shown: our nicks have at most 32 characters, other clients get some slack. */
export const MAX_NAME_LENGTH = 64;
/** Longest message said or shown, in characters (UTF-16 code units). */
export const MAX_MESSAGE_LENGTH = 16_384;
/**
 * Largest payload read from the channel or the history, in bytes: the longest
 * message fits even with every character escaped (`\u0001`, 6 bytes each).
 */
export const MAX_PAYLOAD_BYTES = 128 * 1024;

/** Nicks end up in actor names (`chat.<room>.<nick>`), which refuse spaces and ':'. */
const NICK_PATTERN = /^[\p{L}\p{N}_.-]{1,32}$/u;
/** No '.' in rooms, so that the `chat.<room>.` prefix of one room never matches another. */
const ROOM_PATTERN = /^[\p{L}\p{N}_-]{1,32}$/u;

/** Why `nick` is unusable, or undefined when it is fine. */
export function nickProblem(nick: string): string | undefined {
  return NICK_PATTERN.test(nick)
    ? undefined
    : `"${printable(nick)}" is not a usable nick: use 1 to 32 letters, digits, '_', '.' or '-'`;
}

/** Why `room` is unusable, or undefined when it is fine. */
export function roomProblem(room: string): string | undefined {
  return ROOM_PATTERN.test(room)
    ? undefined
    : `"${printable(room)}" is not a usable room: use 1 to 32 letters, digits, '_' or '-'`;
}

/**
 * The payload a JSON value stands for, or undefined when it is not one of ours
 * (anyone can publish on the channel): only the known fields are read, as
 * strings of bounded length; anything else in the object is never looked at.
 */
export function parseRoomPayload(value: unknown): RoomPayload | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  const { name, message, event, previous } = fields;
  if (!isShortString(name, MAX_NAME_LENGTH)) return undefined;
  // A message wins over an event, so any object with a string name and message displays.
  if (typeof message === 'string') {
    return message.length <= MAX_MESSAGE_LENGTH ? { name, message } : undefined;
  }
  if (event === 'join' || event === 'leave') return { name, event };
  if (event === 'nick' && isShortString(previous, MAX_NAME_LENGTH)) {
    return { name, event, previous };
  }
  return undefined;
}

function isShortString(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length <= maxLength;
}

/** The line printed for a payload of `room`. */
export function describePayload(payload: RoomPayload, room: string): string {
  const name = printable(payload.name);
  if ('message' in payload) return `${name}: ${printable(payload.message)}`;
  switch (payload.event) {
    case 'join':
      return `* ${name} joined #${room}`;
    case 'leave':
      return `* ${name} left #${room}`;
    case 'nick':
      return `* ${printable(payload.previous)} is now known as ${name}`;
  }
}

/**
 * `text` with control characters shown as escapes: whatever anyone publishes,
 * it prints on one line and cannot move the cursor or clear the screen.
 */
export function printable(text: string): string {
  return text.replace(/[\p{Cc}]/gu, (character) => {
    if (character === '\n') return '\\n';
    if (character === '\r') return '\\r';
    if (character === '\t') return character;
    return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

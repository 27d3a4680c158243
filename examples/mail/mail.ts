/**
 * The mail logic of the mail example, apart from its command line: the message
 * type, composing replies (bottom-posting with quoting) and reply-alls, how
 * messages are shown, and inboxes kept in Redis.
 *
 * Storage: each user's inbox is a Redis list under
 * `system.key('mail', 'inbox', user)` (`<namespace>:mail:inbox:<user>`), newest
 * message first (LPUSH), trimmed to the newest {@link DEFAULT_INBOX_LIMIT}
 * messages (LTRIM). Because the list lives in Redis, mail sent while its
 * recipient is offline waits there. After storing, `send` also publishes the
 * message on the topic `mail.<user>` for whoever watches live; nobody has to.
 */
import { randomUUID } from 'node:crypto';
import type { ActorSystem, Topic, Unsubscribe } from 'redis-actors';

/** A stored message. Dates are ISO 8601 strings, so a message is plain JSON. */
export interface Mail {
  id: string;
  date: string;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  body: string;
  /** Id of the message this one replies to. */
  inReplyTo?: string;
}

/** What a user writes; {@link composeMail} adds the id and the date. */
export interface Draft {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  body: string;
  inReplyTo?: string;
}

/** How many messages an inbox keeps: the newest 500. */
export const DEFAULT_INBOX_LIMIT = 500;
/** Largest body, in UTF-8 bytes: 500 of them keep an inbox under 32 MiB. */
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_SUBJECT_LENGTH = 200;
/** Most distinct recipients (to and cc) of one message. */
export const MAX_RECIPIENTS = 50;
/** Longest message id or inReplyTo read back (ours are 36-character UUIDs). */
const MAX_ID_LENGTH = 128;
/** Longest date read back (ours are 24-character ISO strings). */
const MAX_DATE_LENGTH = 64;
/**
 * Largest stored message read back, in bytes: a message at every limit
 * above, escaped, fits. Longer entries (anyone can push to an inbox list) are
 * not even transferred: the script that reads them sends their size instead.
 */
export const MAX_STORED_MAIL_BYTES = 1024 * 1024;

const USER_NAME = /^[\w.-]{1,64}$/;
// Control characters other than tab would let a subject forge lines of output.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const RE_PREFIXES = /^(\s*re\s*:\s*)+/i;
// Shown as escapes, so that what was read from Redis cannot drive the terminal:
// in a body, all but tab and newline; on one line, all but tab.
// eslint-disable-next-line no-control-regex
const BODY_CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
// eslint-disable-next-line no-control-regex
const LINE_CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f]/g;
const escapeCharacter = (character: string): string =>
  `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Reads an inbox, newest first, at most ARGV[1] entries; an entry longer than
 * ARGV[2] bytes comes back as its length (an integer) instead of its text.
 */
const READ_INBOX_SCRIPT = `
local entries = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
for i, entry in ipairs(entries) do
  if #entry > tonumber(ARGV[2]) then entries[i] = #entry end
end
return entries`;

/** Entry ARGV[1] (from 0) of an inbox, nil when there is none, its length when longer than ARGV[2]. */
const READ_ENTRY_SCRIPT = `
local entry = redis.call('LINDEX', KEYS[1], ARGV[1])
if entry and #entry > tonumber(ARGV[2]) then return #entry end
return entry`;

/** A mistake of the user (a bad name, an unknown message number, …): its message says what to do. */
export class MailError extends Error {
  override readonly name = 'MailError';
}

/**
 * A user name, lower-cased so that `Bob` and `bob` share one inbox. Throws
 * {@link MailError} unless it is 1-64 letters, digits, `_`, `.` or `-`.
 */
export function userName(name: string): string {
  if (!USER_NAME.test(name)) {
    throw new MailError(
      `invalid user name "${name}": use 1-64 letters, digits, '_', '.' or '-' (e.g. alice)`,
    );
  }
  return name.toLowerCase();
}

/** User names from `--to bob,dave --to carol` style values: split, validated, without duplicates. */
export function userList(values: readonly string[]): string[] {
  const names = values.flatMap((value) => value.split(',')).map((name) => name.trim());
  return unique(names.filter((name) => name !== '').map(userName));
}

/** A message ready to store: validated, with a new id and the date `now`. */
export function composeMail(draft: Draft, now: Date = new Date()): Mail {
  const from = userName(draft.from);
  const to = unique(draft.to.map(userName));
  const cc = unique((draft.cc ?? []).map(userName)).filter((name) => !to.includes(name));
  if (to.length === 0) throw new MailError('a message needs at least one recipient (--to)');
  if (to.length + cc.length > MAX_RECIPIENTS) {
    throw new MailError(`at most ${MAX_RECIPIENTS} recipients (to and cc together)`);
  }
  const subject = draft.subject.trim();
  if (CONTROL_CHARACTERS.test(subject)) throw new MailError('the subject must be one line');
  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw new MailError(`the subject is longer than ${MAX_SUBJECT_LENGTH} characters`);
  }
  // Line endings are normalised and trailing newlines (as from `echo … |`) dropped.
  const body = draft.body.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  const bodyBytes = Buffer.byteLength(body);
  if (bodyBytes > MAX_BODY_BYTES) {
    throw new MailError(`the body has ${bodyBytes} bytes, more than the ${MAX_BODY_BYTES} allowed`);
  }
  const mail: Mail = { id: randomUUID(), date: now.toISOString(), from, to, cc, subject, body };
  if (draft.inReplyTo !== undefined) mail.inReplyTo = draft.inReplyTo;
  return mail;
}

/** `Re: <subject>`, with exactly one `Re: ` however many the original had (`RE:`, `re :` too). */
export function replySubject(subject: string): string {
  return `Re: ${subject.replace(RE_PREFIXES, '')}`;
}

/**
 * The original, quoted: an attribution line `On <date>, <sender> wrote:`, then
 * each line of its body prefixed with `> ` (an empty line with `>` alone, so
 * that quoting adds no trailing spaces).
 */
export function quote(original: Mail): string {
  const quoted = original.body.split('\n').map((line) => (line === '' ? '>' : `> ${line}`));
  return [`On ${formatDate(original.date)}, ${original.from} wrote:`, ...quoted].join('\n');
}

/** A bottom-posted body: the quoted original first, a blank line, then the new text. */
export function replyBody(original: Mail, text: string): string {
  return `${quote(original)}\n\n${text.replace(/\r\n?/g, '\n').replace(/\n+$/, '')}`;
}

/** A reply of `replier` to the sender of `original`. */
export function composeReply(original: Mail, replier: string, text: string): Draft {
  return {
    from: userName(replier),
    to: [original.from],
    subject: replySubject(original.subject),
    body: replyBody(original, text),
    inReplyTo: original.id,
  };
}

/**
 * Recipients of a reply-all by `replier`: to = the original sender and its
 * recipients, cc = its cc; both without the replier and without duplicates
 * (someone in both stays in to). When that leaves nobody in to, cc moves up;
 * when it leaves nobody at all (a message to oneself), the sender is kept.
 */
export function replyAllRecipients(
  original: Mail,
  replier: string,
): { to: string[]; cc: string[] } {
  const me = userName(replier);
  let to = unique([original.from, ...original.to]).filter((name) => name !== me);
  let cc = unique(original.cc).filter((name) => name !== me && !to.includes(name));
  if (to.length === 0) [to, cc] = [cc, []];
  if (to.length === 0) to = [original.from];
  return { to, cc };
}

/** A reply of `replier` to the sender and every other recipient of `original`. */
export function composeReplyAll(original: Mail, replier: string, text: string): Draft {
  return { ...composeReply(original, replier, text), ...replyAllRecipients(original, replier) };
}

/** `2025-01-15 10:32 UTC`: the same everywhere, whatever the machine's time zone. */
export function formatDate(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The message as a reader sees it: headers, a blank line, the body. */
export function formatMail(mail: Mail): string {
  return [
    `From:    ${mail.from}`,
    `To:      ${mail.to.join(', ')}`,
    ...(mail.cc.length > 0 ? [`Cc:      ${mail.cc.join(', ')}`] : []),
    `Date:    ${formatDate(mail.date)}`,
    `Subject: ${mail.subject}`,
    '',
    mail.body.replace(BODY_CONTROL_CHARACTERS, escapeCharacter),
  ].join('\n');
}

/** `text` fit to print on one line: control characters but tab shown as `\u…` escapes. */
export function oneLine(text: string): string {
  return text.replace(LINE_CONTROL_CHARACTERS, escapeCharacter);
}

/** One line of an inbox listing: number, date, sender, subject. */
export function formatInboxLine(number: number, mail: Mail | MailError, width = 3): string {
  const label = String(number).padStart(width);
  if (mail instanceof MailError) return `${label}  (unreadable: ${mail.message})`;
  const subject = mail.subject === '' ? '(no subject)' : mail.subject;
  return `${label}  ${formatDate(mail.date)}  ${mail.from.padEnd(12)}  ${subject}`;
}

/**
 * A message from its JSON text, checked field by field: inboxes and topics are
 * open to any Redis client, so what is read may not be what `send` wrote.
 */
export function parseMail(text: string): Mail {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MailError('not JSON');
  }
  return checkMail(value);
}

/**
 * See {@link parseMail}; for a value already parsed (as a topic delivers it).
 * Only the known fields are read, each within the limits `composeMail`
 * enforces; the errors never quote what was read, which may be huge or
 * hold control characters.
 */
export function checkMail(value: unknown): Mail {
  if (typeof value !== 'object' || value === null) throw new MailError('not an object');
  const fields = value as Record<string, unknown>;
  const text = (field: string, maxLength: number): string => {
    const found = fields[field];
    if (typeof found !== 'string') throw new MailError(`${field} is not a string`);
    if (found.length > maxLength) {
      throw new MailError(`${field} is longer than ${maxLength} characters`);
    }
    return found;
  };
  const user = (found: unknown, field: string): string => {
    if (typeof found !== 'string' || !USER_NAME.test(found)) {
      throw new MailError(`${field} is not a user name`);
    }
    return found.toLowerCase();
  };
  const users = (field: string): string[] => {
    const found = fields[field];
    if (!Array.isArray(found)) throw new MailError(`${field} is not a list of user names`);
    if (found.length > MAX_RECIPIENTS) {
      throw new MailError(`${field} has more than ${MAX_RECIPIENTS} recipients`);
    }
    return found.map((name) => user(name, `${field} entry`));
  };
  const date = text('date', MAX_DATE_LENGTH);
  if (Number.isNaN(Date.parse(date))) throw new MailError('date is not a date');
  const mail: Mail = {
    id: text('id', MAX_ID_LENGTH),
    date: new Date(date).toISOString(),
    from: user(fields.from, 'from'),
    to: users('to'),
    cc: users('cc'),
    subject: text('subject', MAX_SUBJECT_LENGTH),
    body: text('body', MAX_BODY_BYTES),
  };
  if (mail.to.length + mail.cc.length > MAX_RECIPIENTS) {
    throw new MailError(`more than ${MAX_RECIPIENTS} recipients`);
  }
  if (Buffer.byteLength(mail.body) > MAX_BODY_BYTES) {
    throw new MailError(`body is longer than ${MAX_BODY_BYTES} bytes`);
  }
  if (CONTROL_CHARACTERS.test(mail.subject)) throw new MailError('the subject is not one line');
  if (fields.inReplyTo !== undefined) mail.inReplyTo = text('inReplyTo', MAX_ID_LENGTH);
  return mail;
}

/** The inbox limit from `MAIL_INBOX_LIMIT` (a positive integer), else {@link DEFAULT_INBOX_LIMIT}. */
export function inboxLimitFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_INBOX_LIMIT;
  const limit = Number(value);
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new MailError(`MAIL_INBOX_LIMIT must be a positive integer, not "${value}"`);
  }
  return limit;
}

/** Inboxes in Redis, through an actor system's connection. */
export class MailStore {
  constructor(
    private readonly system: ActorSystem,
    /** How many messages each inbox keeps; older ones are dropped as new ones come. */
    readonly inboxLimit: number = DEFAULT_INBOX_LIMIT,
  ) {
    if (!Number.isSafeInteger(inboxLimit) || inboxLimit < 1) {
      throw new MailError(`the inbox limit must be a positive integer, not ${inboxLimit}`);
    }
  }

  /** `<namespace>:mail:inbox:<user>`. */
  inboxKey(user: string): string {
    return this.system.key('mail', 'inbox', userName(user));
  }

  /** The topic on which new mail for `user` is announced, `mail.<user>`. */
  liveTopic(user: string): Topic {
    return this.system.topic(`mail.${userName(user)}`);
  }

  /**
   * Stores `mail` in the inbox of each recipient (to and cc), then announces it
   * on their live topics. Resolves with the recipients and how many watchers
   * saw it live.
   */
  async deliver(mail: Mail): Promise<{ recipients: string[]; watching: number }> {
    const recipients = unique([...mail.to, ...mail.cc]);
    const json = JSON.stringify(mail);
    // Issued in one tick, these travel as one batch. Per inbox, LPUSH then LTRIM
    // on one connection run in order, so no inbox stays over the limit.
    await Promise.all(
      recipients.flatMap((user) => {
        const key = this.inboxKey(user);
        return [
          this.system.command(['LPUSH', key, json]),
          this.system.command(['LTRIM', key, '0', String(this.inboxLimit - 1)]),
        ];
      }),
    );
    // Only after storing: a watcher that hears of it can already read it.
    const watchers = await Promise.all(
      recipients.map((user) => this.liveTopic(user).publish(mail)),
    );
    return { recipients, watching: watchers.reduce((sum, count) => sum + count, 0) };
  }

  /**
   * The inbox, newest first (so number 1 is the newest), at most `inboxLimit`
   * messages however long the list is; an unreadable entry is a MailError.
   */
  async inbox(user: string): Promise<(Mail | MailError)[]> {
    const reply = await this.system.command([
      'EVAL',
      READ_INBOX_SCRIPT,
      '1',
      this.inboxKey(user),
      String(this.inboxLimit),
      String(MAX_STORED_MAIL_BYTES),
    ]);
    if (!Array.isArray(reply)) return [];
    return reply.map((entry) => {
      try {
        return storedMail(entry);
      } catch (error) {
        if (error instanceof MailError) return error;
        throw error;
      }
    });
  }

  /** Message `number` of the inbox listing (1 = newest); MailError when there is none. */
  async message(user: string, number: number): Promise<Mail> {
    if (!Number.isSafeInteger(number) || number < 1) {
      throw new MailError(`message numbers start at 1, not ${number}`);
    }
    const key = this.inboxKey(user);
    const entry = await this.system.command([
      'EVAL',
      READ_ENTRY_SCRIPT,
      '1',
      key,
      String(number - 1),
      String(MAX_STORED_MAIL_BYTES),
    ]);
    if (entry === null) {
      const size = await this.system.command(['LLEN', key]);
      throw new MailError(
        size === 0
          ? `${userName(user)} has no message ${number}: the inbox is empty`
          : `${userName(user)} has no message ${number}: the inbox holds ${String(size)} (see: inbox ${userName(user)})`,
      );
    }
    try {
      return storedMail(entry);
    } catch (error) {
      if (error instanceof MailError) {
        throw new MailError(
          `message ${number} of ${userName(user)} is unreadable: ${error.message}`,
        );
      }
      throw error;
    }
  }

  /**
   * Calls `onMail` for each message announced to `user` from now on, and
   * `onInvalid` for anything else published on that topic. Resolves once Redis
   * confirmed the subscription.
   */
  watch(
    user: string,
    onMail: (mail: Mail) => void,
    onInvalid: (problem: string) => void,
  ): Promise<Unsubscribe> {
    return this.liveTopic(user).subscribe(
      (value) => {
        try {
          onMail(checkMail(value));
        } catch (error) {
          if (!(error instanceof MailError)) throw error;
          onInvalid(error.message);
        }
      },
      (_raw, problem) => {
        onInvalid(problem);
      },
    );
  }
}

/** An entry as the read scripts return it: the JSON text, or the length of an entry too long to read. */
function storedMail(entry: unknown): Mail {
  if (typeof entry === 'number') {
    throw new MailError(
      `${entry} bytes, more than the ${MAX_STORED_MAIL_BYTES} a message can have`,
    );
  }
  return parseMail(String(entry));
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

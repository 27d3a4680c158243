/**
 * `npm run mail -- <command> …`: email between users, with inboxes kept in
 * Redis so that mail sent while its recipient is offline waits for them, and
 * `watch` to see new mail the moment it arrives. `--help` lists the commands.
 * The mail logic is in ./mail.ts; this file is only the command line.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ActorSystem, type Broker, RedisActorsError, findBroker } from 'redis-actors';
import {
  DEFAULT_INBOX_LIMIT,
  MAX_STORED_MAIL_BYTES,
  MailError,
  MailStore,
  composeMail,
  composeReply,
  composeReplyAll,
  formatInboxLine,
  formatMail,
  inboxLimitFromEnv,
  oneLine,
  userList,
  userName,
  type Draft,
  type Mail,
} from './mail.js';

const HELP = `Usage: npm run mail -- <command> [arguments]

Mail between users, kept in Redis: mail sent while its recipient is offline
waits in their inbox.

Commands:
  send --from <user> --to <user>[,<user>…] [--cc <user>[,<user>…]]
       [--subject <text>] [--body <text>]
                                  send a message; without --body, the body is
                                  read from standard input
  inbox <user>                    list <user>'s messages: number, date, sender,
                                  subject; 1 is the newest
  read <user> <n>                 show message <n> of <user>'s inbox
  reply <user> <n> [--body <text>]
                                  answer its sender, below a quote of it
  reply-all <user> <n> [--body <text>]
                                  answer its sender and all its recipients
  watch <user>                    show new mail for <user> as it arrives,
                                  until Ctrl-C

User names are 1-64 letters, digits, '_', '.' or '-', case-insensitive.
Each inbox keeps the newest ${DEFAULT_INBOX_LIMIT} messages (MAIL_INBOX_LIMIT sets another number).
Redis: REDIS_URL, else the private redis-server another process of yours
started (watch starts one if none runs, and keeps it while it runs).
Exit status: 0 on success, 2 for a usage mistake, 1 for any other error.`;

/** A mistake in the command line: reported with a pointer to --help, exit status 2. */
class UsageError extends Error {}

type Command =
  | { kind: 'help' }
  | { kind: 'send'; draft: Omit<Draft, 'body'>; body: string | undefined }
  | { kind: 'inbox'; user: string }
  | { kind: 'read'; user: string; number: number }
  | { kind: 'reply'; all: boolean; user: string; number: number; body: string | undefined }
  | { kind: 'watch'; user: string };

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string', multiple: true },
  cc: { type: 'string', multiple: true },
  subject: { type: 'string' },
  body: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The commands and the options each takes (a Map: no `toString` command by accident). */
const ALLOWED_OPTIONS = new Map<string, readonly string[]>([
  ['send', ['from', 'to', 'cc', 'subject', 'body']],
  ['inbox', []],
  ['read', []],
  ['reply', ['body']],
  ['reply-all', ['body']],
  ['watch', []],
]);

/** Reads the whole command line before anything connects, so mistakes cost no Redis. */
function parseCommand(argv: string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError('no command given');
  if (name === '--help' || name === '-h' || name === 'help') return { kind: 'help' };
  const allowed = ALLOWED_OPTIONS.get(name);
  if (allowed === undefined) throw new UsageError(`unknown command "${name}"`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals: found } = parsed;
  if (values.help === true) return { kind: 'help' };
  // One option table for all commands keeps the types; each command refuses what it does not take.
  for (const option of Object.keys(values)) {
    if (!allowed.includes(option)) throw new UsageError(`${name} takes no --${option}`);
  }
  const positionals = (given: string[], expected: string[]): string[] => {
    if (given.length !== expected.length) {
      const wanted =
        expected.length === 0 ? 'no arguments' : expected.map((each) => `<${each}>`).join(' ');
      const got = given.length === 0 ? 'none' : given.map((each) => `"${each}"`).join(' ');
      throw new UsageError(`${name} takes ${wanted} besides its options, got ${got}`);
    }
    return given;
  };
  switch (name) {
    case 'send': {
      positionals(found, []);
      if (values.from === undefined) throw new UsageError('send needs --from <user>');
      const to = userList(values.to ?? []);
      if (to.length === 0) throw new UsageError('send needs --to <user>[,<user>…]');
      return {
        kind: 'send',
        draft: {
          from: userName(values.from),
          to,
          cc: userList(values.cc ?? []),
          subject: values.subject ?? '',
        },
        body: values.body,
      };
    }
    case 'inbox':
    case 'watch': {
      const [user = ''] = positionals(found, ['user']);
      return { kind: name, user: userName(user) };
    }
    case 'read':
    case 'reply':
    case 'reply-all': {
      const [user = '', numberText = ''] = positionals(found, ['user', 'n']);
      if (!/^\d{1,9}$/.test(numberText) || Number(numberText) < 1) {
        throw new UsageError(
          `<n> must be a message number (1, 2, …) from the inbox, not "${numberText}"`,
        );
      }
      const number = Number(numberText);
      if (name === 'read') return { kind: 'read', user: userName(user), number };
      return {
        kind: 'reply',
        all: name === 'reply-all',
        user: userName(user),
        number,
        body: values.body,
      };
    }
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
}

/** The body from standard input: piped, or typed at a terminal and ended with Ctrl-D. */
function readBodyFromStdin(): string {
  if (process.stdin.isTTY)
    console.error('Type the message; end it with Ctrl-D on a line of its own.');
  return readFileSync(0, 'utf8');
}

function describeRecipients(mail: Mail): string {
  return `${mail.to.join(', ')}${mail.cc.length > 0 ? `; cc ${mail.cc.join(', ')}` : ''}`;
}

async function run(command: Exclude<Command, { kind: 'help' }>, store: MailStore): Promise<void> {
  switch (command.kind) {
    case 'send':
    case 'reply': {
      let draft: Draft;
      if (command.kind === 'send') {
        draft = { ...command.draft, body: command.body ?? readBodyFromStdin() };
      } else {
        const original = await store.message(command.user, command.number);
        const text = command.body ?? readBodyFromStdin();
        draft = (command.all ? composeReplyAll : composeReply)(original, command.user, text);
      }
      const mail = composeMail(draft);
      const { watching } = await store.deliver(mail);
      console.log(
        `sent "${mail.subject}" to ${describeRecipients(mail)}` +
          (watching > 0 ? ` (seen live by ${watching} watcher${watching === 1 ? '' : 's'})` : ''),
      );
      return;
    }
    case 'inbox': {
      const messages = await store.inbox(command.user);
      if (messages.length === 0) {
        console.log(`${command.user}'s inbox is empty`);
        return;
      }
      const count = `${messages.length} message${messages.length === 1 ? '' : 's'}`;
      console.log(`${command.user}'s inbox: ${count}, newest first`);
      const width = String(messages.length).length;
      messages.forEach((mail, index) => {
        console.log(formatInboxLine(index + 1, mail, width));
      });
      return;
    }
    case 'read':
      console.log(formatMail(await store.message(command.user, command.number)));
      return;
    case 'watch':
      await watch(command.user, store);
      return;
  }
}

/**
 * Prints each new message for `user` until SIGINT or SIGTERM. Anyone can
 * publish on the topic: the first thing that is not mail is reported, the
 * rest only counted, so that junk cannot flood the terminal.
 */
async function watch(user: string, store: MailStore): Promise<void> {
  let notMail = 0;
  // No unsubscribe at the end: stopping the system ends the subscription.
  await store.watch(
    user,
    (mail) => {
      console.log(`--- new mail for ${user} ---\n${formatMail(mail)}\n`);
    },
    (problem) => {
      if (notMail++ > 0) return;
      console.error(
        `ignored something on ${user}'s mail topic that is not mail: ${oneLine(problem)} ` +
          '(more of that is only counted)',
      );
    },
  );
  const waiting = (await store.inbox(user)).length;
  console.log(
    `watching ${user}'s mail (${waiting} in the inbox: npm run mail -- inbox ${user}); Ctrl-C to stop`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (notMail > 1)
    console.error(`(ignored ${notMail} things on ${user}'s mail topic that were not mail)`);
  console.log(`stopped watching ${user}'s mail`);
}

async function main(): Promise<number> {
  let command: Command;
  let inboxLimit: number;
  try {
    command = parseCommand(process.argv.slice(2));
    inboxLimit = inboxLimitFromEnv(process.env.MAIL_INBOX_LIMIT);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof MailError)) throw error;
    console.error(`mail: ${error.message}\nRun npm run mail -- --help for the commands.`);
    return 2;
  }
  if (command.kind === 'help') {
    console.log(HELP);
    return 0;
  }
  let broker: Broker | undefined;
  try {
    broker = await findBroker();
    // A Redis this process started dies with it, and with it the mail: only
    // watch, which stays, may keep one.
    if (broker.owned && command.kind !== 'watch') {
      throw new MailError(
        'no Redis is running to keep mail in. Start one that stays: ' +
          'npx redis-actors broker in another terminal, or npm run mail -- watch <user> (it keeps ' +
          'its private Redis while it runs), or set REDIS_URL=redis://host:port for a server of your own.',
      );
    }
    // The limit also bounds what the mail topic parses for watch.
    const system = await ActorSystem.start({
      url: broker.url,
      maxMessageBytes: MAX_STORED_MAIL_BYTES,
    });
    try {
      await run(command, new MailStore(system, inboxLimit));
    } finally {
      await system.stop();
    }
    return 0;
  } catch (error) {
    if (!(error instanceof MailError || error instanceof RedisActorsError)) throw error;
    console.error(`mail: ${error.message}`);
    return 1;
  } finally {
    await broker?.stop();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}

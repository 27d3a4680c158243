/**
 * `npm run chat -- --nick alice [--room lobby]`: a terminal chat on redis-actors.
 *
 * Lines typed are said in the room; what the room says is printed. Messages
 * are the seed's plain JSON `{"name": …, "message": …}` on the channel
 * `<namespace>:topic:chat.<room>` (`ra:topic:chat.lobby` by default), so
 *
 *   redis-cli PUBLISH ra:topic:chat.lobby '{"name":"bob","message":"hi"}'
 *
 * shows up in every client. Commands: /who, /nick <new>, /quit (Ctrl-C and
 * the end of standard input leave too).
 */
import { parseArgs } from 'node:util';
import { ActorSystem, NameTakenError, findBroker } from 'redis-actors';
import { MAX_PAYLOAD_BYTES, nickProblem, roomProblem } from './messages.js';
import { ChatRoom } from './room.js';
import { Terminal } from './terminal.js';

const USAGE = 'usage: npm run chat -- --nick <nick> [--room <room>]';
const COMMANDS =
  'commands: /who, /nick <new>, /quit; start a message with // to say something beginning with /';

/** Prints `message` on stderr and exits; only for before the room is joined. */
function exitBeforeStart(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function readCommandLine(): { nick: string; room: string } {
  let values: { nick?: string | undefined; room: string };
  try {
    ({ values } = parseArgs({
      options: { nick: { type: 'string' }, room: { type: 'string', default: 'lobby' } },
    }));
  } catch (error) {
    exitBeforeStart(`${(error as Error).message}\n${USAGE}`, 2);
  }
  const { nick, room } = values;
  if (nick === undefined) exitBeforeStart(`--nick is required\n${USAGE}`, 2);
  const problem = nickProblem(nick) ?? roomProblem(room);
  if (problem !== undefined) exitBeforeStart(`${problem}\n${USAGE}`, 2);
  return { nick, room };
}

const { nick, room } = readCommandLine();
const terminal = new Terminal();
const broker = await findBroker().catch((error: unknown) =>
  exitBeforeStart((error as Error).message, 1),
);
// The limit also bounds what the room's topic parses: nobody's payload costs more than that.
const system = await ActorSystem.start({
  url: broker.url,
  maxMessageBytes: MAX_PAYLOAD_BYTES,
}).catch(async (error: unknown) => {
  await broker.stop();
  return exitBeforeStart((error as Error).message, 1);
});
if (broker.owned) {
  terminal.print(
    `(no Redis was running, so this chat started one at ${broker.url}; ` +
      'it stops when you leave, and the other clients lose the room with it)',
  );
}

let interrupts = 0;
/** Until the room is joined, an interrupt is only counted (and acted on once joined). */
let leaveOnInterrupt: () => void = () => undefined;

/** Ctrl-C (a signal, or raw-mode input at a terminal), SIGTERM, SIGHUP. */
function interrupt(): void {
  // A second one, while joining or leaving, means: stop now.
  if (++interrupts > 1) process.exit(130);
  leaveOnInterrupt();
}
// Before joining: without a listener, a signal would kill the process outright.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, interrupt);

const joined = await ChatRoom.join({
  system,
  room,
  nick,
  show: (line) => {
    terminal.print(line);
  },
}).catch(async (error: unknown) => {
  await system.stop();
  await broker.stop();
  if (!(error instanceof NameTakenError)) throw error;
  return exitBeforeStart(`nick ${nick} is taken in #${room}: choose another one with --nick`, 1);
});

system.on('connection-lost', () => {
  terminal.print('(lost the connection to Redis; reconnecting…)');
});
system.on('connection-restored', () => {
  terminal.print('(connected to Redis again; what was said meanwhile is in the history)');
});

let leaving: Promise<void> | undefined;

/** Leaves the room and disconnects, once, however the user asked for it. */
function leave(): Promise<void> {
  leaving ??= (async () => {
    terminal.stop();
    try {
      await joined.leave();
    } catch (error) {
      terminal.print(`(could not tell the room: ${(error as Error).message})`);
    }
    await system.stop();
    await broker.stop();
    terminal.print(`left #${room}`);
    // Nothing is left to keep the event loop alive: the process ends with code 0.
  })();
  return leaving;
}

async function handleLine(line: string): Promise<void> {
  if (leaving !== undefined || line.trim() === '') return;
  const command = /^\/(\S+)\s*(.*)$/u.exec(line);
  if (command === null || line.startsWith('//')) {
    await joined.say(command === null ? line : line.slice(1)).catch((error: unknown) => {
      terminal.print(`(not sent: ${(error as Error).message})`);
    });
    return;
  }
  const [, name = '', argument = ''] = command;
  try {
    switch (name) {
      case 'who': {
        const nicks = await joined.who();
        terminal.print(`in #${room} (${nicks.length}): ${nicks.join(', ')}`);
        break;
      }
      case 'nick':
        await rename(argument.trim());
        break;
      case 'quit':
        await leave();
        break;
      case 'help':
        terminal.print(`(${COMMANDS})`);
        break;
      default:
        terminal.print(`(unknown command /${name}; ${COMMANDS})`);
    }
  } catch (error) {
    terminal.print(`(/${name} failed: ${(error as Error).message})`);
  }
}

async function rename(newNick: string): Promise<void> {
  const problem = nickProblem(newNick);
  if (problem !== undefined) {
    terminal.print(`(${problem})`);
  } else if (newNick === joined.nick) {
    terminal.print(`(you are already ${newNick})`);
  } else {
    try {
      await joined.rename(newNick);
    } catch (error) {
      if (!(error instanceof NameTakenError)) throw error;
      terminal.print(`(nick ${newNick} is taken in #${room}; you are still ${joined.nick})`);
    }
  }
}

terminal.start({ line: handleLine, end: () => void leave(), interrupt });
leaveOnInterrupt = () => void leave();
if (interrupts > 0) void leave();
// Nobody reads our output any more (e.g. the pipe was closed): leave the room.
process.stdout.on('error', () => void leave());

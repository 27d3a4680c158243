/**
 * The terminal chat example (examples/chat), run as the README says
 * (`npm run chat -- --nick alice`), as real processes on the test Redis. Every
 * wait is on a line a client printed: "joined #lobby as …" is printed once the
 * client is registered, subscribed and has shown the history.
 */
import { describe, expect, it } from 'vitest';
import {
  type Child,
  deferred,
  rawClient,
  runCommand,
  runTs,
  startSystem,
  uniqueNamespace,
} from './helpers.js';

interface ChatClient extends Child {
  /** Types a line into the client. */
  type(line: string): void;
}

function startChat(namespace: string, nick: string, room?: string): ChatClient {
  const roomArguments = room === undefined ? [] : ['--room', room];
  const child = runCommand(
    'npm',
    ['run', '--silent', 'chat', '--', '--nick', nick, ...roomArguments],
    { REDIS_ACTORS_NAMESPACE: namespace },
  );
  return withTyping(child);
}

function withTyping(child: Child): ChatClient {
  return Object.assign(child, {
    type(line: string) {
      child.process.stdin?.write(`${line}\n`);
    },
  });
}

/** Starts a client and waits until it has joined. */
async function join(namespace: string, nick: string, room = 'lobby'): Promise<ChatClient> {
  const client = startChat(namespace, nick, room === 'lobby' ? undefined : room);
  await client.waitForLine(new RegExp(`^joined #${room} as ${nick} `));
  return client;
}

/** Types `/quit`, expects a clean exit, with nothing on stderr. */
async function quit(client: ChatClient): Promise<void> {
  client.type('/quit');
  expect(await client.exited).toEqual({ code: 0, signal: null });
  expect(client.stdout.at(-1)).toMatch(/^left #/);
  expect(client.lines).toEqual(client.stdout);
}

describe('chat example', () => {
  it('shows two clients each other’s messages (UTF-8 and long lines whole), joins and leaves', async () => {
    const namespace = uniqueNamespace();
    const alice = await join(namespace, 'alice');
    const bob = await join(namespace, 'bob');
    await alice.waitForLine(/^\* bob joined #lobby$/);

    bob.type('hi alice');
    await alice.waitForLine(/^bob: hi alice$/);
    const utf8 = 'héllo wörld ✓ 日本語 🎉 Ωμέγα';
    const long = `${'long line ✓ '.repeat(833)}end!`;
    alice.type(utf8);
    alice.type(long);
    for (const client of [alice, bob]) {
      await client.waitForLine(/^alice: long line/);
      expect(client.stdout).toContain(`alice: ${utf8}`);
      expect(client.stdout).toContain(`alice: ${long}`);
    }
    expect(long).toHaveLength(10_000);

    await quit(bob);
    await alice.waitForLine(/^\* bob left #lobby$/);
    // The end of standard input leaves as /quit does.
    alice.closeStdin();
    expect(await alice.exited).toEqual({ code: 0, signal: null });
    // (The long line is compared above: a failure here should not print it.)
    expect(
      alice.stdout.map((line) => (line === `alice: ${long}` ? 'alice: <long>' : line)),
    ).toEqual([
      'joined #lobby as alice (commands: /who, /nick <new>, /quit)',
      '* bob joined #lobby',
      'bob: hi alice',
      `alice: ${utf8}`,
      'alice: <long>',
      '* bob left #lobby',
      'left #lobby',
    ]);
  });

  it('shows what redis-cli publishes in the seed format; garbage gets one notice', async () => {
    const namespace = uniqueNamespace();
    const [alice, bob] = await Promise.all([join(namespace, 'alice'), join(namespace, 'bob')]);
    const redis = rawClient();
    const channel = `${namespace}:topic:chat.lobby`;

    expect(await redis.publish(channel, '{"name":"bob","message":"hi"}')).toBe(2);
    for (const garbage of ['not json {', '{"name":"x"}', '[1,2]', '42', 'null', '{"name":1}']) {
      await redis.publish(channel, garbage);
    }
    // Anyone can publish anything: it stays on one line and cannot drive the terminal.
    await redis.publish(channel, JSON.stringify({ name: 'eve', message: 'two\nlines\u001b[2J' }));
    await redis.publish(channel, '{"name":"zed","event":"join"}');
    alice.type('still chatting');

    for (const client of [alice, bob]) {
      await client.waitForLine(/^alice: still chatting$/);
      expect(client.stdout.slice(client.stdout.indexOf('bob: hi'))).toEqual([
        'bob: hi',
        '(ignored something on the channel that is not a chat message)',
        'eve: two\\nlines\\u001b[2J',
        '* zed joined #lobby',
        'alice: still chatting',
      ]);
    }
    await Promise.all([quit(alice), quit(bob)]);
  });

  it('shows a newcomer the last 50 messages, in order', async () => {
    const namespace = uniqueNamespace();
    const alice = await join(namespace, 'alice');
    const said = Array.from({ length: 55 }, (_, index) => `message ${index + 1}`);
    alice.process.stdin?.write(said.map((line) => `${line}\n`).join(''));
    await alice.waitForLine(/^alice: message 55$/);

    const carol = await join(namespace, 'carol');
    const joinedAt = carol.stdout.findIndex((line) => line.startsWith('joined #lobby as carol'));
    expect(carol.stdout.slice(0, joinedAt)).toEqual([
      '-- the last 50 messages of #lobby --',
      ...said.slice(-50).map((line) => `alice: ${line}`),
    ]);
    expect(await rawClient().llen(`${namespace}:chat:lobby:history`)).toBe(50);
    await Promise.all([quit(carol), quit(alice)]);
  });

  it('shows a newcomer who joins while someone talks every message once, in order', async () => {
    const namespace = uniqueNamespace();
    const alice = await join(namespace, 'alice');
    const carol = startChat(namespace, 'carol');
    const carolJoined = carol.waitForLine(/^joined #lobby as carol /);
    // Alice talks, one line after the other, until carol has joined, then a few more:
    // carol's join falls somewhere in the middle of the conversation.
    let said = 0;
    let afterJoin = 0;
    const carolIsIn = (): boolean => carol.stdout.some((line) => line.startsWith('joined #'));
    while (afterJoin < 5 && said < 5000) {
      said++;
      alice.type(`m${said}`);
      await alice.waitForLine(new RegExp(`^alice: m${said}$`));
      if (carolIsIn()) afterJoin++;
    }
    await carolJoined;
    await carol.waitForLine(new RegExp(`^alice: m${said}$`));
    const seen = carol.stdout
      .filter((line) => line.startsWith('alice: m'))
      .map((line) => Number(line.slice('alice: m'.length)));
    const first = seen[0] ?? 0;
    expect(seen).toEqual(Array.from({ length: said - first + 1 }, (_, index) => first + index));
    expect(said - first + 1).toBeGreaterThan(5); // history (up to 50) + what followed
    await Promise.all([quit(carol), quit(alice)]);
  });

  it('lists the room with /who from the registry; /nick renames and refuses a taken nick', async () => {
    const namespace = uniqueNamespace();
    const [alice, bob, zoe] = await Promise.all([
      join(namespace, 'alice'),
      join(namespace, 'bob'),
      join(namespace, 'zoë', 'attic'),
    ]);

    alice.type('/who');
    expect(await alice.waitForLine(/^in #lobby/)).toBe('in #lobby (2): alice, bob');
    alice.type('/nick bob');
    expect(await alice.waitForLine(/taken/)).toBe(
      '(nick bob is taken in #lobby; you are still alice)',
    );
    alice.type('/nick ally');
    await alice.waitForLine(/^\* alice is now known as ally$/);
    await bob.waitForLine(/^\* alice is now known as ally$/);
    bob.type('/who');
    expect(await bob.waitForLine(/^in #lobby/)).toBe('in #lobby (2): ally, bob');
    zoe.type('/who');
    expect(await zoe.waitForLine(/^in #attic/)).toBe('in #attic (1): zoë');
    const observer = await startSystem({ namespace });
    const names = (await observer.registry.list()).map((actor) => actor.name);
    expect(names).toEqual(['chat.attic.zoë', 'chat.lobby.ally', 'chat.lobby.bob']);

    alice.type('hello as ally');
    await bob.waitForLine(/^ally: hello as ally$/);

    const secondBob = startChat(namespace, 'bob');
    const badNick = startChat(namespace, 'bad:nick');
    expect(await secondBob.exited).toEqual({ code: 1, signal: null });
    expect(secondBob.lines).toEqual([
      'nick bob is taken in #lobby: choose another one with --nick',
    ]);
    expect(await badNick.exited).toEqual({ code: 2, signal: null });
    expect(badNick.lines[0]).toMatch(/^"bad:nick" is not a usable nick: use 1 to 32 letters/);

    await quit(alice);
    await bob.waitForLine(/^\* ally left #lobby$/);
    await Promise.all([quit(bob), quit(zoe)]);
    expect(zoe.stdout.join('\n')).not.toMatch(/ally|bob/);
  });

  it('leaves cleanly on Ctrl-C and exits 0', async () => {
    const namespace = uniqueNamespace();
    const observer = await startSystem({ namespace });
    const aliceLeft = deferred();
    await observer.topic('chat.lobby').subscribe((value) => {
      if (JSON.stringify(value) === '{"name":"alice","event":"leave"}') aliceLeft.resolve();
    });
    // Straight node (not npm, which dies of the signal itself), in its own process group.
    const alice = withTyping(
      runTs('examples/chat/main.ts', ['--nick', 'alice'], { REDIS_ACTORS_NAMESPACE: namespace }),
    );
    await alice.waitForLine(/^joined #lobby as alice /);
    alice.signalGroup('SIGINT');
    expect(await alice.exited).toEqual({ code: 0, signal: null });
    await aliceLeft.promise;
    expect(alice.stdout.at(-1)).toBe('left #lobby');
    expect(await observer.registry.list()).toEqual([]);
  });
});

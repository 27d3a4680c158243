/**
 * The mail example (examples/mail): its pure functions directly, its Redis
 * storage through an actor system, and its command line as real processes
 * (`npm run mail -- …`) against the test Redis, each test in its own namespace.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  DEFAULT_INBOX_LIMIT,
  type Mail,
  MailError,
  MailStore,
  composeMail,
  composeReply,
  composeReplyAll,
  formatDate,
  formatMail,
  inboxLimitFromEnv,
  parseMail,
  quote,
  replyAllRecipients,
  replySubject,
  userList,
} from '../examples/mail/mail.js';
import { type Child, rawClient, runCommand, startSystem, uniqueNamespace } from './helpers.js';

/** Runs `npm run mail -- …args` as a real process in namespace `namespace`. */
function mail(namespace: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  return runCommand('npm', ['run', '--silent', 'mail', '--', ...args], {
    REDIS_ACTORS_NAMESPACE: namespace,
    ...env,
  });
}

/** Runs the command to its end; fails the test, with its output, unless it exits 0. */
async function mailOk(namespace: string, args: string[], env?: NodeJS.ProcessEnv) {
  const child = mail(namespace, args, env);
  const { code } = await child.exited;
  expect(code, `mail ${args.join(' ')}:\n${child.lines.join('\n')}`).toBe(0);
  return child.stdout;
}

/** Lines the child printed on stderr (every line minus its stdout lines). */
function stderrOf(child: Child): string[] {
  const stdout = [...child.stdout];
  return child.lines.filter((line) => {
    const index = stdout.indexOf(line);
    if (index === -1) return true;
    stdout.splice(index, 1);
    return false;
  });
}

function sample(overrides: Partial<Mail> = {}): Mail {
  return {
    id: 'id-1',
    date: '2025-03-14T09:26:53.000Z',
    from: 'alice',
    to: ['bob', 'dave'],
    cc: ['carol'],
    subject: 'Lunch on Friday?',
    body: 'Hi all,\n\nlunch on Friday?',
    ...overrides,
  };
}

describe('mail logic (examples/mail/mail.ts)', () => {
  it('gives a reply exactly one "Re: " prefix', () => {
    expect(replySubject('Lunch')).toBe('Re: Lunch');
    expect(replySubject('Re: Lunch')).toBe('Re: Lunch');
    expect(replySubject('RE: re:Re :  Lunch')).toBe('Re: Lunch');
    expect(replySubject('')).toBe('Re: ');
    expect(replySubject('Lunch, re: Friday')).toBe('Re: Lunch, re: Friday');
  });

  it('bottom-posts: attribution line, the original quoted line by line, a blank line, the new text', () => {
    const original = sample();
    expect(quote(original)).toBe(
      'On 2025-03-14 09:26 UTC, alice wrote:\n> Hi all,\n>\n> lunch on Friday?',
    );
    const reply = composeReply(original, 'Bob', 'Yes!\nSee you there.\n');
    expect(reply).toEqual({
      from: 'bob',
      to: ['alice'],
      subject: 'Re: Lunch on Friday?',
      body:
        'On 2025-03-14 09:26 UTC, alice wrote:\n' +
        '> Hi all,\n' +
        '>\n' +
        '> lunch on Friday?\n' +
        '\n' +
        'Yes!\n' +
        'See you there.',
      inReplyTo: 'id-1',
    });
    // Quoting a reply nests the earlier quote one level deeper.
    const second = composeMail(reply, new Date('2025-03-14T10:00:00Z'));
    expect(composeReply(second, 'alice', 'Great').body).toBe(
      'On 2025-03-14 10:00 UTC, bob wrote:\n' +
        '> On 2025-03-14 09:26 UTC, alice wrote:\n' +
        '> > Hi all,\n' +
        '> >\n' +
        '> > lunch on Friday?\n' +
        '>\n' +
        '> Yes!\n' +
        '> See you there.\n' +
        '\n' +
        'Great',
    );
    expect(composeReply(second, 'alice', 'Great').subject).toBe('Re: Lunch on Friday?');
  });

  it('reply-all: sender and recipients in to, cc kept, the replier removed, no duplicates', () => {
    const original = sample({ to: ['bob', 'dave', 'alice', 'bob'], cc: ['carol', 'dave', 'erin'] });
    expect(replyAllRecipients(original, 'bob')).toEqual({
      to: ['alice', 'dave'],
      cc: ['carol', 'erin'],
    });
    expect(replyAllRecipients(sample(), 'carol')).toEqual({ to: ['alice', 'bob', 'dave'], cc: [] });
    // The sender replying to all of their own message (they had cc'd themselves).
    expect(replyAllRecipients(sample({ cc: ['alice'] }), 'alice')).toEqual({
      to: ['bob', 'dave'],
      cc: [],
    });
    // Nobody left in to: the cc moves up; nobody at all: back to the sender.
    expect(replyAllRecipients(sample({ to: ['bob'], from: 'bob', cc: ['x'] }), 'bob')).toEqual({
      to: ['x'],
      cc: [],
    });
    expect(replyAllRecipients(sample({ to: ['bob'], from: 'bob', cc: [] }), 'bob')).toEqual({
      to: ['bob'],
      cc: [],
    });
    const draft = composeReplyAll(sample(), 'dave', 'ok');
    expect(draft).toMatchObject({ from: 'dave', to: ['alice', 'bob'], cc: ['carol'] });
    expect(draft.subject).toBe('Re: Lunch on Friday?');
  });

  it('validates names, recipients, subject and size when composing', () => {
    expect(userList(['Bob,dave', ' carol ', 'bob'])).toEqual(['bob', 'dave', 'carol']);
    expect(() => userList(['bob;rm -rf'])).toThrow(/invalid user name "bob;rm -rf"/);
    expect(() => userList(['a:b'])).toThrow(MailError);
    expect(() => userList(['x'.repeat(65)])).toThrow(MailError);
    const draft = { from: 'alice', to: ['bob'], subject: 's', body: 'b' };
    const composed = composeMail({ ...draft, cc: ['bob', 'carol'], body: 'one\r\ntwo\n\n' });
    expect(composed).toMatchObject({ to: ['bob'], cc: ['carol'], body: 'one\ntwo' });
    expect(composed.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(() => composeMail({ ...draft, to: [] })).toThrow(/at least one recipient/);
    expect(() => composeMail({ ...draft, subject: 'a\nFrom: bob' })).toThrow(/one line/);
    expect(() => composeMail({ ...draft, body: 'x'.repeat(70_000) })).toThrow(/70000 bytes/);
  });

  it('shows a message with its headers, and checks what it reads back', () => {
    expect(formatMail(sample())).toBe(
      [
        'From:    alice',
        'To:      bob, dave',
        'Cc:      carol',
        'Date:    2025-03-14 09:26 UTC',
        'Subject: Lunch on Friday?',
        '',
        'Hi all,',
        '',
        'lunch on Friday?',
      ].join('\n'),
    );
    expect(parseMail(JSON.stringify(sample()))).toEqual(sample());
    expect(() => parseMail('nope')).toThrow(/not JSON/);
    expect(() => parseMail(JSON.stringify({ ...sample(), to: 'bob' }))).toThrow(/to is not a list/);
    expect(() => parseMail(JSON.stringify({ ...sample(), date: 'soon' }))).toThrow(/not a date/);
    expect(inboxLimitFromEnv(undefined)).toBe(DEFAULT_INBOX_LIMIT);
    expect(DEFAULT_INBOX_LIMIT).toBe(500);
    expect(inboxLimitFromEnv('3')).toBe(3);
    expect(() => inboxLimitFromEnv('0')).toThrow(/positive integer/);
  });
});

describe('mail storage in Redis', () => {
  it('keeps only the newest messages of an inbox (LPUSH + LTRIM), newest first', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const store = new MailStore(system, 5);
    expect(store.inboxKey('Bob')).toBe(`${namespace}:mail:inbox:bob`);
    for (let i = 1; i <= 8; i++) {
      await store.deliver(composeMail({ from: 'alice', to: ['bob'], subject: `#${i}`, body: '' }));
    }
    expect(await rawClient().llen(`${namespace}:mail:inbox:bob`)).toBe(5);
    const subjects = (await store.inbox('bob')).map((entry) =>
      entry instanceof MailError ? entry.message : entry.subject,
    );
    expect(subjects).toEqual(['#8', '#7', '#6', '#5', '#4']);
    expect((await store.message('bob', 5)).subject).toBe('#4');
    await expect(store.message('bob', 6)).rejects.toThrow(
      'bob has no message 6: the inbox holds 5',
    );
    await expect(store.message('nobody', 1)).rejects.toThrow('the inbox is empty');
    // Something another client pushed that is not mail is listed as unreadable, not fatal.
    await rawClient().lpush(`${namespace}:mail:inbox:bob`, '{"hello":1}');
    const [first] = await store.inbox('bob');
    expect(first).toBeInstanceOf(MailError);
    await expect(store.message('bob', 1)).rejects.toThrow(/message 1 of bob is unreadable/);
  });
});

describe('npm run mail', () => {
  it('delivers to an offline recipient: inbox lists it newest first, read shows it', async () => {
    const namespace = uniqueNamespace();
    // Nobody is watching: the mail must wait in Redis.
    expect(
      await mailOk(namespace, [
        'send',
        '--from',
        'alice',
        '--to',
        'bob,dave',
        '--cc',
        'carol',
        '--subject',
        'Lunch on Friday?',
        '--body',
        'Hi all,\n\nlunch on Friday?',
      ]),
    ).toEqual(['sent "Lunch on Friday?" to bob, dave; cc carol']);
    // The body from standard input.
    const fromStdin = mail(namespace, ['send', '--from', 'dave', '--to', 'Bob', '--subject', 'Hi']);
    fromStdin.process.stdin?.write('Piped\nbody\n');
    fromStdin.closeStdin();
    expect((await fromStdin.exited).code).toBe(0);

    const inbox = await mailOk(namespace, ['inbox', 'bob']);
    expect(inbox[0]).toBe("bob's inbox: 2 messages, newest first");
    expect(inbox.slice(1)).toEqual([
      expect.stringMatching(/^1 {2}\d{4}-\d\d-\d\d \d\d:\d\d UTC {2}dave {10}Hi$/),
      expect.stringMatching(/^2 {2}\d{4}-\d\d-\d\d \d\d:\d\d UTC {2}alice {9}Lunch on Friday\?$/),
    ]);
    const read = await mailOk(namespace, ['read', 'bob', '2']);
    expect(read).toEqual([
      'From:    alice',
      'To:      bob, dave',
      'Cc:      carol',
      expect.stringMatching(/^Date: {4}\d{4}-\d\d-\d\d \d\d:\d\d UTC$/),
      'Subject: Lunch on Friday?',
      '',
      'Hi all,',
      '',
      'lunch on Friday?',
    ]);
    expect((await mailOk(namespace, ['read', 'bob', '1'])).slice(-2)).toEqual(['Piped', 'body']);
    // Dave and carol got it too; alice, the sender, did not.
    const store = new MailStore(await startSystem({ namespace }));
    expect((await store.inbox('dave')).length).toBe(1);
    expect((await store.inbox('carol')).length).toBe(1);
    expect(await store.inbox('alice')).toEqual([]);
  });

  it('reply quotes and bottom-posts; reply-all reaches everyone else; Re: is never doubled', async () => {
    const namespace = uniqueNamespace();
    const store = new MailStore(await startSystem({ namespace }));
    await mailOk(namespace, [
      'send',
      '--from=alice',
      '--to=bob',
      '--to=dave',
      '--cc=carol,bob',
      '--subject=Lunch on Friday?',
      '--body=Hi all,\n\nlunch on Friday?',
    ]);
    const [original] = await store.inbox('bob');
    if (original === undefined || original instanceof MailError) throw new Error('no mail for bob');

    expect(await mailOk(namespace, ['reply', 'bob', '1', '--body', 'Yes!\nSee you.'])).toEqual([
      'sent "Re: Lunch on Friday?" to alice',
    ]);
    const reply = await store.message('alice', 1);
    expect(reply).toMatchObject({
      from: 'bob',
      to: ['alice'],
      cc: [],
      subject: 'Re: Lunch on Friday?',
      inReplyTo: original.id,
      body: `On ${formatDate(original.date)}, alice wrote:\n> Hi all,\n>\n> lunch on Friday?\n\nYes!\nSee you.`,
    });

    // Alice answers the reply: still one "Re: ", the earlier quote nested.
    await mailOk(namespace, ['reply', 'alice', '1', '--body', 'Great.']);
    const answer = await store.message('bob', 1);
    expect(answer.subject).toBe('Re: Lunch on Friday?');
    expect(answer.body).toBe(
      `On ${formatDate(reply.date)}, bob wrote:\n> On ${formatDate(original.date)}, alice wrote:\n` +
        '> > Hi all,\n> >\n> > lunch on Friday?\n>\n> Yes!\n> See you.\n\nGreat.',
    );

    // Carol (cc) replies to all: alice and the to-recipients, carol herself left out.
    expect(await mailOk(namespace, ['reply-all', 'carol', '1', '--body', 'Count me in.'])).toEqual([
      'sent "Re: Lunch on Friday?" to alice, bob, dave',
    ]);
    // Dave (to) replies to all of the original (now his message 2, under carol's):
    // alice and bob in to, carol kept in cc.
    expect(await mailOk(namespace, ['reply-all', 'dave', '2', '--body', 'Me too.'])).toEqual([
      'sent "Re: Lunch on Friday?" to alice, bob; cc carol',
    ]);
    const toCarol = await store.message('carol', 1);
    expect(toCarol).toMatchObject({ from: 'dave', to: ['alice', 'bob'], cc: ['carol'] });
    expect(toCarol.body.endsWith('\n\nMe too.')).toBe(true);
    expect((await store.inbox('alice')).length).toBe(3);
  });

  it('watch prints mail as it arrives, ignores what is not mail, stops on Ctrl-C', async () => {
    const namespace = uniqueNamespace();
    const watcher = mail(namespace, ['watch', 'bob']);
    expect(await watcher.waitForLine(/^watching /)).toBe(
      "watching bob's mail (0 in the inbox: npm run mail -- inbox bob); Ctrl-C to stop",
    );
    await rawClient().publish(`${namespace}:topic:mail.bob`, '{"not":"mail"}');
    expect(
      await mailOk(namespace, [
        'send',
        '--from',
        'alice',
        '--to',
        'bob',
        '--subject',
        'Live',
        '--body',
        'now',
      ]),
    ).toEqual(['sent "Live" to bob (seen live by 1 watcher)']);
    await watcher.waitForLine(/^Subject: Live$/);
    await watcher.waitForLine(/^ignored something on bob's mail topic that is not mail: /);
    const shown = watcher.stdout.slice(watcher.stdout.indexOf('--- new mail for bob ---'));
    expect(shown.slice(0, 7)).toEqual([
      '--- new mail for bob ---',
      'From:    alice',
      'To:      bob',
      expect.stringMatching(/^Date: /),
      'Subject: Live',
      '',
      'now',
    ]);
    watcher.signalGroup('SIGINT');
    await watcher.waitForLine(/^stopped watching bob's mail$/);
    await watcher.exited;
  });

  it('MAIL_INBOX_LIMIT caps the inbox the command line writes to', async () => {
    const namespace = uniqueNamespace();
    const store = new MailStore(await startSystem({ namespace }));
    for (const subject of ['old', 'middle', 'recent']) {
      await store.deliver(composeMail({ from: 'alice', to: ['bob'], subject, body: '' }));
    }
    await mailOk(namespace, ['send', '--from=x', '--to=bob', '--subject=new', '--body='], {
      MAIL_INBOX_LIMIT: '3',
    });
    const subjects = (await store.inbox('bob')).map((entry) =>
      entry instanceof MailError ? entry.message : entry.subject,
    );
    expect(subjects).toEqual(['new', 'recent', 'middle']);
  });

  it('explains bad arguments on stderr and exits non-zero', async () => {
    const namespace = uniqueNamespace();
    const cases: { args: string[]; env?: NodeJS.ProcessEnv; code: number; error: string }[] = [
      { args: [], code: 2, error: 'mail: no command given' },
      { args: ['toString', '--x'], code: 2, error: 'mail: unknown command "toString"' },
      { args: ['send', '--from', 'alice', '--body', 'x'], code: 2, error: 'mail: send needs --to' },
      {
        args: ['send', '--from', 'al ice', '--to', 'bob', '--body', 'x'],
        code: 2,
        error: 'mail: invalid user name "al ice"',
      },
      {
        args: ['read', 'bob', 'two'],
        code: 2,
        error: 'mail: <n> must be a message number (1, 2, …) from the inbox, not "two"',
      },
      { args: ['inbox', 'bob', '--body', 'x'], code: 2, error: 'mail: inbox takes no --body' },
      { args: ['inbox'], code: 2, error: 'mail: inbox takes <user> besides its options' },
      {
        args: ['inbox', 'bob'],
        env: { MAIL_INBOX_LIMIT: 'lots' },
        code: 2,
        error: 'mail: MAIL_INBOX_LIMIT must be a positive integer, not "lots"',
      },
      {
        args: ['reply', 'bob', '3', '--body', 'x'],
        code: 1,
        error: 'mail: bob has no message 3: the inbox is empty',
      },
    ];
    // Independent processes: run them side by side.
    const runs = cases.map((each) => ({ ...each, child: mail(namespace, each.args, each.env) }));
    for (const { args, code, error, child } of runs) {
      const exit = await child.exited;
      const [firstError = ''] = stderrOf(child);
      // The arguments are in each comparison so that a failure names its case.
      expect({ args, code: exit.code, error: firstError.slice(0, error.length) }).toEqual({
        args,
        code,
        error,
      });
      expect(child.stdout).toEqual([]);
    }
    const help = await mailOk(namespace, ['--help']);
    expect(help[0]).toBe('Usage: npm run mail -- <command> [arguments]');
    expect(help.join('\n')).toContain('Each inbox keeps the newest 500 messages');
  });

  it('without a Redis that outlives it, refuses to send (the mail would be lost); watch keeps one', async () => {
    const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-mail-'));
    onTestFinished(() => {
      fs.rmSync(runtime, { recursive: true, force: true });
    });
    // No REDIS_URL and no private broker running: this process would start one
    // for itself, and stop it (mail and all) when it ends.
    const isolated = { REDIS_URL: '', XDG_RUNTIME_DIR: runtime };
    const namespace = uniqueNamespace();
    const args = ['send', '--from', 'alice', '--to', 'bob', '--body', 'x'];
    const refused = mail(namespace, args, isolated);
    expect((await refused.exited).code).toBe(1);
    expect(stderrOf(refused)[0]).toMatch(/^mail: no Redis is running to keep mail in\. /);
    expect(fs.existsSync(path.join(runtime, 'redis-actors', 'broker.url'))).toBe(false);

    // As the message says: a watch keeps its private Redis, and sends use it.
    const watcher = mail(namespace, ['watch', 'carol'], isolated);
    await watcher.waitForLine(/^watching carol's mail/);
    await mailOk(namespace, args, isolated);
    expect(await mailOk(namespace, ['inbox', 'bob'], isolated)).toHaveLength(2);
    watcher.signalGroup('SIGINT');
    await watcher.waitForLine(/^stopped watching/);
    await watcher.exited;
  });
});

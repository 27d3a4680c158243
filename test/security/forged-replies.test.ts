/**
 * Who may answer an ask: a stranger on the same Redis (a plain client, no
 * keys) who watches every channel and answers every ask first, or who
 * predicts the ids of asks it has not seen, must win none of them.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type ActorSystem, PROTOCOL_VERSION, defineActor } from '../../src/index.js';
import { rawClient, startSystem, uniqueNamespace } from '../helpers.js';

type Fields = Record<string, unknown>;

/**
 * The envelopes in a payload as a stranger reads them: a signed payload's
 * JSON follows `RAS1.<mac>.`; a batch is a JSON array of envelopes.
 */
function readEnvelopes(payload: Buffer): Fields[] {
  let text = payload.toString();
  if (text.startsWith('RAS1.')) text = text.slice(text.indexOf('.', 5) + 1);
  try {
    const parsed = JSON.parse(text) as Fields | Fields[];
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [];
  }
}

const forgedReply = (ask: Fields, from: string, n: number): string =>
  JSON.stringify({
    v: PROTOCOL_VERSION,
    id: `forger.${n}`,
    kind: 'reply',
    from,
    to: ask.replyTo,
    correlationId: ask.id,
    sentAt: Date.now(),
    body: 'forged',
  });

/**
 * A stranger that PSUBSCRIBEs the whole namespace and answers every ask it
 * sees at once, as `from` (the asked address when not given). Resolves with
 * the number of forged replies published so far.
 */
async function watchAndAnswer(namespace: string, from?: string): Promise<() => number> {
  const raw = rawClient();
  const watcher = raw.duplicate();
  onTestFinished(() => {
    watcher.disconnect();
  });
  let forged = 0;
  watcher.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, payload: Buffer) => {
    for (const envelope of readEnvelopes(payload)) {
      if (envelope.kind !== 'ask' || typeof envelope.replyTo !== 'string') continue;
      const reply = forgedReply(envelope, from ?? String(envelope.to), ++forged);
      void raw.publish(`${namespace}:${envelope.replyTo}`, reply);
    }
  });
  await watcher.psubscribe(`${namespace}:*`);
  return () => forged;
}

/** Answers `value` after 2 ms: a forger answering at once is ahead of it. */
const slowGenuine = defineActor({
  handlers: {
    value: async () => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return 'genuine';
    },
  },
});

/** A responder whose handler takes 2 ms (a forger answering at once is ahead of it). */
async function responder(namespace: string, secret?: Buffer): Promise<ActorSystem> {
  const system = await startSystem({ namespace, ...(secret ? { auth: { secret } } : {}) });
  await system.spawn(slowGenuine, { name: 'target' });
  return system;
}

/** Every forged reply was refused as foreign, or (after the genuine one) dropped as late. */
async function expectForgedRefused(asker: ActorSystem, forged: () => number): Promise<void> {
  const refusedOrLate = () =>
    (asker.stats().invalidByReason['foreign-reply'] ?? 0) + asker.stats().dropped.lateReply;
  await expect.poll(refusedOrLate).toBe(forged());
  expect(asker.stats().invalidByReason['foreign-reply']).toBeGreaterThan(0);
}

async function askMany(asker: ActorSystem, to: string, count: number): Promise<unknown[]> {
  return Promise.all(Array.from({ length: count }, () => asker.ask(to, 'value')));
}

describe('forged replies', () => {
  it('a watching forger wins asks without a secret (the attack is real)', async () => {
    const namespace = uniqueNamespace();
    const target = await responder(namespace);
    const asker = await startSystem({ namespace });
    const forged = await watchAndAnswer(namespace);
    const replies = await askMany(asker, target.address, 50);
    expect(forged()).toBeGreaterThan(0);
    expect(replies.filter((reply) => reply === 'forged').length).toBeGreaterThan(0);
  });

  it('with a namespace secret, 200 watched asks answered first by a forger: 0 forged accepted', async () => {
    const namespace = uniqueNamespace();
    const secret = randomBytes(32);
    const target = await responder(namespace, secret);
    const asker = await startSystem({ namespace, auth: { secret } });
    const forged = await watchAndAnswer(namespace);
    const replies = await askMany(asker, target.address, 200);
    expect(replies).toEqual(Array.from({ length: 200 }, () => 'genuine'));
    expect(forged()).toBeGreaterThanOrEqual(200);
    await expect
      .poll(() => asker.stats().invalidByReason.unsigned ?? 0)
      .toBeGreaterThanOrEqual(forged());
    console.log(
      `forged replies: ${forged()} published, ${asker.stats().invalidByReason.unsigned} refused as unsigned, 0 accepted`,
    );
  });

  it('without a secret, a reply from an address that is not the asked one is dropped and counted', async () => {
    const namespace = uniqueNamespace();
    const target = await responder(namespace);
    const asker = await startSystem({ namespace });
    const forged = await watchAndAnswer(namespace, 'evil-addr');
    expect(await askMany(asker, 'target', 50)).toEqual(Array.from({ length: 50 }, () => 'genuine'));
    expect(await askMany(asker, target.address, 50)).toEqual(
      Array.from({ length: 50 }, () => 'genuine'),
    );
    expect(forged()).toBeGreaterThanOrEqual(100);
    await expectForgedRefused(asker, forged);
  });

  it('without a secret, a reply to an ask of an actor address nobody claims counts only from that address', async () => {
    const namespace = uniqueNamespace();
    const target = await responder(namespace);
    const worker = await target.spawn(slowGenuine);
    expect(worker.address).toContain('/');
    const asker = await startSystem({ namespace });
    const forged = await watchAndAnswer(namespace, 'evil-addr');
    expect(await askMany(asker, worker.address, 50)).toEqual(
      Array.from({ length: 50 }, () => 'genuine'),
    );
    await expectForgedRefused(asker, forged);
  });

  it('without a secret, replies to predicted ask ids win nothing: ids carry 96 random bits', async () => {
    const namespace = uniqueNamespace();
    const target = await responder(namespace);
    const asker = await startSystem({ namespace });
    const raw = rawClient();
    const sniffer: Redis = raw.duplicate();
    onTestFinished(() => {
      sniffer.disconnect();
    });
    // The stranger sees one ask of the victim, then answers ids it predicts from it.
    const seen = new Promise<Fields>((resolve) => {
      sniffer.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
        const ask = readEnvelopes(payload).find((envelope) => envelope.kind === 'ask');
        if (ask !== undefined) resolve(ask);
      });
    });
    await sniffer.subscribe(`${namespace}:${target.address}`);
    expect(await asker.ask(target.address, 'value')).toBe('genuine');
    const sample = await seen;
    sniffer.disconnect();
    const [nonce, counter] = String(sample.id).split('.');
    expect(String(sample.id)).toMatch(/^[\w-]{12}\.[0-9a-z]+\.[\w-]{16}$/);
    const next = parseInt(counter ?? '0', 36);
    const asks = askMany(asker, target.address, 300);
    const guesses: string[] = [];
    for (let k = 1; k <= 600; k++) {
      const guess = { replyTo: asker.address, id: `${nonce}.${(next + k).toString(36)}` };
      guesses.push(forgedReply(guess, target.address, k));
    }
    const pipeline = raw.pipeline();
    for (const guess of guesses) pipeline.publish(`${namespace}:${asker.address}`, guess);
    await pipeline.exec();
    expect(await asks).toEqual(Array.from({ length: 300 }, () => 'genuine'));
    // Each guess matched no pending ask: counted as a reply to no ask of ours.
    await expect.poll(() => asker.stats().dropped.lateReply).toBe(600);
  });
});

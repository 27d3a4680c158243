/**
 * Terminal 2: `npm run example:ping`. Tells pong a note, asks it three pings
 * by name, prints each reply with its round-trip time, and exits.
 */
import { ActorSystem, NoRecipientError, findBroker } from 'redis-actors';
import type { pongActor } from './pong-actor.js';

const broker = await findBroker();
const system = await ActorSystem.start({ url: broker.url });
const pong = system.ref<typeof pongActor>('pong');
try {
  await pong.tell('note', `hello from ${system.address}`);
  for (let i = 1; i <= 3; i++) {
    const started = performance.now();
    const reply = await pong.ask('ping', `ping ${i}`, { timeoutMs: 2000 });
    console.log(`${reply}  (${(performance.now() - started).toFixed(2)} ms)`);
  }
} catch (error) {
  process.exitCode = 1;
  console.error(
    error instanceof NoRecipientError
      ? 'nobody answers as "pong": start it first with npm run example:pong'
      : String(error),
  );
} finally {
  await system.stop();
  await broker.stop();
}

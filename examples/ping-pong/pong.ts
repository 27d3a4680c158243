/**
 * Terminal 1: `npm run example:pong`. Hosts the pong actor, reachable by its
 * address `<hostname>-<pid>` and by the name "pong". Ctrl-C stops it.
 */
import { ActorSystem, findBroker } from 'redis-actors';
import { pongActor } from './pong-actor.js';

const broker = await findBroker();
const system = await ActorSystem.start({ url: broker.url });
await system.spawn(pongActor, { name: 'pong' });
console.log(`pong listens at ${system.address} (and as "pong") on ${broker.url}`);
console.log('now run, in another terminal: npm run example:ping');

process.once('SIGINT', () => {
  void system
    .stop()
    .then(() => broker.stop())
    .then(() => {
      console.log('pong stopped');
    });
});

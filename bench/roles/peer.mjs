// One of many small processes (bench/presence.ts): `peer.mjs <url> <namespace> <name>` hosts
// one echo actor named <name> at its process address and, told `asks`, asks another peer's
// actor by name with a few asks in flight. Plain JavaScript on the built package (no tsx),
// so that a hundred of them start quickly; the IPC protocol is bench/rpc.ts's.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ActorSystem, defineActor } from 'redis-actors';

const [url, namespace, name] = process.argv.slice(2);
const system = await ActorSystem.start({
  url,
  namespace,
  logger: { debug() {}, info() {}, warn() {}, error: console.error },
});
await system.spawn(defineActor({ handlers: { echo: (body) => body } }), { name });

/** `inflight` ask loops to `target` for warmupMs + durationMs; asks/s over the last durationMs. */
async function asks({ target, inflight, durationMs, warmupMs }) {
  const ref = system.ref(target);
  let completed = 0;
  let mismatches = 0;
  let next = 0;
  let running = true;
  const loop = async () => {
    while (running) {
      const i = next++;
      const reply = await ref.ask('echo', { i, s: 'hello, actor' }, { timeoutMs: 30_000 });
      if (reply?.i !== i) mismatches++;
      completed++;
    }
  };
  const loops = Array.from({ length: inflight }, loop);
  await sleep(warmupMs);
  const from = completed;
  const started = performance.now();
  await sleep(durationMs);
  const perSecond = ((completed - from) * 1000) / (performance.now() - started);
  running = false;
  await Promise.all(loops);
  return { perSecond, mismatches };
}

const commands = { noop: () => 'ok', asks };
process.on('message', (message) => {
  const command = commands[message.command];
  Promise.resolve()
    .then(() => command(message.args))
    .then(
      (result) => process.send({ id: message.id, result }),
      (error) => process.send({ id: message.id, error: String(error?.stack ?? error) }),
    );
});
process.on('disconnect', () => {
  void system.stop().then(() => process.exit(0));
});
process.send({ id: 0, result: 'ready' });

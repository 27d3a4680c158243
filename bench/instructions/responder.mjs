// Part of bench/instructions/main.sh: see there.
const { ActorSystem, defineActor } = await import(process.argv[2]);
const system = await ActorSystem.start({
  url: process.argv[3],
  namespace: 'prof',
  logger: { debug() {}, info() {}, warn() {}, error: console.error },
});
await system.spawn(defineActor({ handlers: { echo: (body) => body, tick: () => {} } }), {
  name: 'echo',
});
console.log('READY');
process.on('SIGTERM', async () => {
  await system.stop();
  process.exit(0);
});

// Part of bench/instructions/main.sh: see there.
const { ActorSystem } = await import(process.argv[2]);
const system = await ActorSystem.start({
  url: process.argv[3],
  namespace: 'prof',
  logger: { debug() {}, info() {}, warn() {}, error: console.error },
});
const total = Number(process.argv[4]);
let i = 0;
const loop = async () => {
  while (i < total) {
    const n = i++;
    await system.tell('echo', 'tick', { i: n, s: 'hello, actor' });
  }
};
await Promise.all(Array.from({ length: 2000 }, loop));
// Once this ask is answered, every tell before it was handled.
await system.ask('echo', 'echo', 1, { timeoutMs: 600000 });
console.log(`told ${total}`);
await system.stop();

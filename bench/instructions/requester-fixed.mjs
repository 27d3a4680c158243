// Part of bench/instructions/main.sh: see there.
const { ActorSystem } = await import(process.argv[2]);
const system = await ActorSystem.start({
  url: process.argv[3],
  namespace: 'prof',
  logger: { debug() {}, info() {}, warn() {}, error: console.error },
});
const total = Number(process.argv[4]);
let i = 0,
  done = 0;
const loop = async () => {
  while (i < total) {
    const n = i++;
    const r = await system.ask('echo', 'echo', { i: n, s: 'hello, actor' }, { timeoutMs: 600000 });
    if (r.i !== n) throw new Error('mismatch');
    done++;
  }
};
await Promise.all(Array.from({ length: 256 }, loop));
console.log(`done ${done}`);
await system.stop();

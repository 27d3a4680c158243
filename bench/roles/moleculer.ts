/**
 * The peer: Moleculer 0.14 with its Redis transporter, the same request body
 * and in-flight levels. `moleculer.ts responder|requester <socket path> <prefix>`.
 */
import moleculer from 'moleculer';
import { serve } from '../rpc.js';
import { type Ask, askCommands, asksCompletedSoFar } from '../shapes.js';

const [role, socketPath, prefix] = process.argv.slice(2) as [string, string, string];
const broker = new moleculer.ServiceBroker({
  namespace: prefix,
  nodeID: `${role}-${process.pid}`,
  transporter: { type: 'Redis', options: { path: socketPath } },
  logger: false,
});

if (role === 'responder') {
  broker.createService({
    name: 'bench',
    actions: { echo: (context): unknown => context.params as unknown },
  });
  await broker.start();
  serve({});
} else {
  await broker.start();
  await broker.waitForServices('bench');
  const ask: Ask = (body) => broker.call('bench.echo', body, { timeout: 30_000 });
  serve({ ...askCommands(ask) }, asksCompletedSoFar);
}

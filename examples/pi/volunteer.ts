/**
 * `npm run pi:volunteer -- [--collector name] [--batch B]`: joins a running pi
 * computation from another terminal (or another machine, with REDIS_URL set):
 * computes batches and sends them to the collector, unasked, until it is done.
 */
import { discoverBrokerUrl } from 'redis-actors';

if ((process.env.REDIS_URL ?? '') === '') {
  const url = discoverBrokerUrl();
  if (url === undefined) {
    process.stderr.write(
      'no running computation found: start one with npm run pi, or set REDIS_URL\n',
    );
    process.exit(6);
  }
  process.env.REDIS_URL = url;
}
// The volunteer is the pi worker itself, started by hand rather than by a supervisor.
await import('../../actors/pi-worker.js');

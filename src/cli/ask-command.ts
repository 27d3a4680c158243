import type { Command } from './command.js';
import { withSystem } from './connect.js';
import { toPrintableJson } from './json.js';
import { EXIT, UsageError, parseJsonArgument, parsePositiveInteger } from './usage.js';
import { printableLines } from '../internal.js';

export const askCommand: Command = {
  name: 'ask',
  summary: 'ask an actor and print its reply as JSON',
  help: `usage: redis-actors ask <name|address> <type> [json-body] [--timeout ms]

Sends an ask and prints the reply body as JSON on stdout.
  --timeout ms   how long to wait for the reply (default 5000)
Examples:
  redis-actors ask clock time
  redis-actors ask counter add 5
  redis-actors ask greeter greet '"ada"'`,
  options: { timeout: { type: 'string' } },
  async run({ positionals, values }, global) {
    const [to, type, body, ...extra] = positionals;
    if (to === undefined || type === undefined)
      throw new UsageError('ask needs <name|address> and <type>');
    if (extra.length > 0)
      throw new UsageError(`unexpected arguments: ${extra.join(' ')} (quote the JSON body)`);
    const payload = parseJsonArgument(body);
    const timeoutMs = parsePositiveInteger('--timeout', values.timeout as string | undefined, 5000);
    const reply = await withSystem(global, (system) =>
      system.ask(to, type, payload, { timeoutMs }),
    );
    process.stdout.write(`${printableLines(toPrintableJson(reply, process.stdout.isTTY))}\n`);
    return EXIT.ok;
  },
};

export const tellCommand: Command = {
  name: 'tell',
  summary: 'send a one-way message to an actor',
  help: `usage: redis-actors tell <name|address> <type> [json-body]

Sends a tell; exits 0 once Redis delivered it, 4 when nobody listens.
Example:
  redis-actors tell clock start '{"everyMs":1000,"to":"my-inbox"}'`,
  options: {},
  async run({ positionals }, global) {
    const [to, type, body, ...extra] = positionals;
    if (to === undefined || type === undefined)
      throw new UsageError('tell needs <name|address> and <type>');
    if (extra.length > 0)
      throw new UsageError(`unexpected arguments: ${extra.join(' ')} (quote the JSON body)`);
    const payload = parseJsonArgument(body);
    await withSystem(global, (system) => system.tell(to, type, payload));
    return EXIT.ok;
  },
};

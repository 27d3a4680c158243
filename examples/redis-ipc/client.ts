/**
 * `npm run printer:client -- <command> [...]`, the client side of the printer:
 * - `print <file> [--pages n]`  queue a job, print its job id
 * - `cancel <job-id>`           cancel a job
 * - `status`                    the printer's status hash
 * - `paper <sheets>`            write `settings.printer` (paper) and make it reload
 * - `watch`                     print the printer's warnings and debug messages until Ctrl-C
 * Options as the printer's: --url, --ripc, --component.
 */
import { CommandTimeoutError, ipcPayload } from 'redis-actors/redis-ipc';
import { connectAs, exampleArgs } from './connect.js';

const { values, positionals, printer } = exampleArgs();
const [command, argument] = positionals;
const ipc = await connectAs(`${printer}-client`, values);

/** Prints what the printer said, without redis-ipc's bookkeeping fields; an error result exits 1. */
function show(result: Record<string, unknown>): void {
  const said = JSON.stringify(ipcPayload(result));
  if (typeof result.error === 'string') {
    console.error(said);
    process.exitCode = 1;
  } else {
    console.log(said);
  }
}

try {
  switch (command) {
    case 'print':
      show(
        await ipc.sendCommand(
          printer,
          { file: argument ?? 'untitled.txt', pages: Number(values.pages) },
          { subqueue: 'print' },
        ),
      );
      break;
    case 'cancel':
      show(await ipc.sendCommand(printer, { 'job-id': argument }, { subqueue: 'cancel' }));
      break;
    case 'status':
      show(await ipc.sendCommand(printer, { command: 'status' }));
      break;
    case 'paper':
      await ipc.settings(printer).set('paper', Number(argument));
      show(await ipc.sendCommand(printer, { command: 'reload-settings' }));
      break;
    case 'watch': {
      await ipc.subscribeEvents({ component: printer, subchannel: 'warnings' }, (event) => {
        console.log(`warning: ${String(event.message)}`);
      });
      await ipc.subscribeDebug({ component: printer }, (debug) => {
        console.log(`debug[${debug.level}]: ${debug.message}`);
      });
      console.log(`watching ${printer}; Ctrl-C to stop`);
      await new Promise((resolve) => process.once('SIGINT', resolve));
      break;
    }
    default:
      console.error(
        'usage: npm run printer:client -- print <file> [--pages n] | cancel <job-id> | status | paper <sheets> | watch',
      );
      process.exitCode = 2;
  }
} catch (error) {
  console.error(
    error instanceof CommandTimeoutError
      ? `${printer} did not answer: is it running? (npm run printer)`
      : String(error),
  );
  process.exitCode = 1;
} finally {
  await ipc.close();
}

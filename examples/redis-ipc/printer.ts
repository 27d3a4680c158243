/**
 * `npm run printer [-- --url <redis url> | --ripc]`
 *
 * The redis-ipc README's `printer` component, served with redis-actors'
 * redis-ipc module, so that C and Python redis-ipc clients can use it as is:
 * - `queues.commands.printer`: `{ "command": "status" }`, `{ "command": "reload-settings" }`;
 * - `queues.commands.printer.print`: `{ "file": "report.pdf", "pages": 3 }` → `{ "job-id": "1" }`;
 * - `queues.commands.printer.cancel`: `{ "job-id": "1" }` → `{ "cancelled": "1" }`;
 * - keeps `status.printer` current (state, current-job, queued, paper, printed);
 * - reads `settings.printer` (`pages-per-minute`, `paper`, `low-paper`);
 * - publishes `channel.events.printer.warnings` when paper runs low or out, and
 *   debug messages on `channel.debug.printer`.
 * Ctrl-C sets its status offline and stops it.
 */
import { DebugLevel } from 'redis-actors/redis-ipc';
import { connectAs, exampleArgs } from './connect.js';

interface Job {
  id: string;
  file: string;
  pages: number;
  printed: number;
}

const { values, printer } = exampleArgs();
const ipc = await connectAs(printer, values);

const settings = { pagesPerMinute: 120, lowPaper: 5 };
let paper = 20;
async function loadSettings(): Promise<void> {
  const stored = ipc.settings();
  settings.pagesPerMinute = (await stored.getNumber('pages-per-minute')) ?? settings.pagesPerMinute;
  settings.lowPaper = (await stored.getNumber('low-paper')) ?? settings.lowPaper;
  paper = (await stored.getNumber('paper')) ?? paper;
}
await loadSettings();

const queue: Job[] = [];
let current: Job | undefined;
let nextJobId = 1;
let printedTotal = 0;

async function publishStatus(): Promise<void> {
  await ipc.status().setAll({
    state: current === undefined ? 'idle' : paper === 0 ? 'out-of-paper' : 'printing',
    'current-job': current?.id ?? '',
    queued: queue.length,
    paper,
    printed: printedTotal,
  });
}

async function warn(message: string): Promise<void> {
  await ipc.publishEvent({ severity: 'warning', message, paper }, { subchannel: 'warnings' });
  await ipc.debug(message, DebugLevel.WARN);
}

/** Prints one page of the current job, as fast as pages-per-minute allows. */
async function printPage(): Promise<void> {
  current ??= queue.shift();
  if (current === undefined) return;
  if (paper === 0) return;
  paper--;
  current.printed++;
  printedTotal++;
  if (paper === 0) await warn('out of paper');
  else if (paper === settings.lowPaper) await warn(`paper low: ${paper} sheets left`);
  if (current.printed === current.pages) {
    await ipc.debug(`job ${current.id} (${current.file}) done`, DebugLevel.INFO);
    console.log(`job ${current.id} done: ${current.file}, ${current.pages} pages`);
    current = undefined;
  }
  await publishStatus();
}
let printing = Promise.resolve();
let pageTimer: NodeJS.Timeout | undefined;
/** (Re)starts the page clock at the current pages-per-minute. */
function startPrinting(): void {
  clearInterval(pageTimer);
  pageTimer = setInterval(() => {
    printing = printing.then(printPage).catch((error: unknown) => {
      console.error(`printer: ${String(error)}`);
    });
  }, 60_000 / settings.pagesPerMinute);
}
startPrinting();

function jobNamed(id: unknown): Job | undefined {
  return current?.id === id ? current : queue.find((job) => job.id === id);
}

const server = await ipc.serveCommands(
  async (command, { subqueue }) => {
    switch (subqueue) {
      case 'print': {
        const pages = Number(command.pages ?? 1);
        if (typeof command.file !== 'string' || !Number.isInteger(pages) || pages < 1) {
          throw new Error(
            'a print command needs "file" (a string) and "pages" (a positive integer)',
          );
        }
        const job: Job = { id: String(nextJobId++), file: command.file, pages, printed: 0 };
        queue.push(job);
        console.log(`job ${job.id} queued: ${job.file}, ${pages} pages`);
        await publishStatus();
        return { 'job-id': job.id };
      }
      case 'cancel': {
        const job = jobNamed(command['job-id']);
        if (job === undefined) throw new Error(`no job ${JSON.stringify(command['job-id'])}`);
        if (job === current) current = undefined;
        else queue.splice(queue.indexOf(job), 1);
        console.log(`job ${job.id} cancelled after ${job.printed} of ${job.pages} pages`);
        await publishStatus();
        return { cancelled: job.id, printed: job.printed };
      }
      default:
        switch (command.command) {
          case 'status':
            return { ...(await ipc.status().getAll()) };
          case 'reload-settings':
            await loadSettings();
            startPrinting();
            await publishStatus();
            return { ...settings, paper };
          default:
            throw new Error(`unknown command ${JSON.stringify(command.command)}: try "status"`);
        }
    }
  },
  { subqueues: [undefined, 'print', 'cancel'] },
);
await publishStatus();
console.log(`${printer} serving ${server.queues.join(', ')} on ${ipc.url}`);
console.log(`from another terminal: npm run printer:client -- print report.pdf`);

process.once('SIGINT', () => {
  clearInterval(pageTimer);
  void (async () => {
    await server.stop();
    await printing;
    await ipc.status().set('state', 'offline');
    await ipc.close();
    console.log(`${printer} stopped`);
  })();
});

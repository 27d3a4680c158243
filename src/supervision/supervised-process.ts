/**
 * One child process as its supervisor sees it: started with the supervisor's
 * mailbox on its command line and a socket as fd 3 for the watchdog's beats,
 * its output forwarded line by line with a `[name:pid]` prefix, its exit
 * observed exactly once, and a stop that escalates from SIGTERM to SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/** Where forwarded child output goes. */
export type OutputSink = (
  line: string,
  stream: 'stdout' | 'stderr',
  child: { name: string; pid: number },
) => void;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchOptions {
  /** The child's name (its output's prefix). */
  name: string;
  /** The name its actor takes (`--redis-actors-name=`). */
  actorName: string;
  modulePath: string;
  execArgv: string[];
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The supervisor's mailbox address, passed as `--redis-actors-parent=<address>`. */
  parentAddress: string;
  output: OutputSink | 'forward' | 'ignore';
}

/** Lines of stderr kept for error messages. */
const STDERR_TAIL_LINES = 20;

export const PARENT_FLAG = '--redis-actors-parent=';
export const NAME_FLAG = '--redis-actors-name=';

const forwardToConsole: OutputSink = (line, stream, child) => {
  (stream === 'stdout' ? process.stdout : process.stderr).write(
    `[${child.name}:${child.pid}] ${line}\n`,
  );
};

export class SupervisedProcess {
  readonly pid: number;
  /** Resolves once, when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  /** When the last watchdog beat arrived (ms since epoch); the spawn time before any. */
  lastBeatAt = Date.now();
  /** How long ago the child's main thread last ran, per its last beat. */
  mainThreadAgeMs = 0;
  private readonly child: ChildProcess;
  private readonly stderrLines: string[] = [];
  private exit: ProcessExit | undefined;

  constructor(private readonly options: LaunchOptions) {
    this.child = spawn(
      process.execPath,
      [
        ...options.execArgv,
        options.modulePath,
        `${PARENT_FLAG}${options.parentAddress}`,
        `${NAME_FLAG}${options.actorName}`,
        ...options.args,
      ],
      {
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        // Its own process group: Ctrl-C reaches the supervisor, which stops children in order.
        detached: true,
      },
    );
    this.pid = this.child.pid ?? -1;
    this.exited = new Promise((resolve) => {
      const settle = (exit: ProcessExit): void => {
        if (this.exit !== undefined) return;
        this.exit = exit;
        resolve(exit);
      };
      // 'close' comes once stdio is drained (so the stderr tail is complete); a
      // grandchild holding the pipes open must not delay the exit, hence the timer.
      this.child.once('exit', (code, signal) => {
        const drained = setTimeout(() => {
          settle({ code, signal });
        }, 500);
        this.child.once('close', () => {
          clearTimeout(drained);
          settle({ code, signal });
        });
      });
      this.child.once('error', () => {
        settle({ code: null, signal: null });
      });
    });
    const sink =
      options.output === 'forward'
        ? forwardToConsole
        : options.output === 'ignore'
          ? undefined
          : options.output;
    this.readLines(this.child.stdout, (line) => sink?.(line, 'stdout', this));
    this.readLines(this.child.stderr, (line) => {
      this.stderrLines.push(line);
      if (this.stderrLines.length > STDERR_TAIL_LINES) this.stderrLines.shift();
      sink?.(line, 'stderr', this);
    });
    this.readLines(this.child.stdio[3] as Readable | null, (line) => {
      const match = /^beat (\d+)$/.exec(line);
      if (match === null) return;
      this.lastBeatAt = Date.now();
      this.mainThreadAgeMs = Number(match[1]);
    });
  }

  get name(): string {
    return this.options.name;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** The last lines the child wrote to stderr. */
  stderrTail(): string[] {
    return [...this.stderrLines];
  }

  /** SIGTERM, then SIGKILL if it has not exited after `timeoutMs`. */
  async terminate(timeoutMs: number): Promise<ProcessExit> {
    if (this.exit !== undefined) return this.exit;
    this.signal('SIGTERM');
    const timer = setTimeout(() => {
      this.signal('SIGKILL');
    }, timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  kill(): void {
    this.signal('SIGKILL');
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.exit === undefined) this.child.kill(signal);
  }

  private readLines(stream: Readable | null, onLine: (line: string) => void): void {
    if (stream === null) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      partial += chunk;
      let newline = partial.indexOf('\n');
      while (newline >= 0) {
        onLine(partial.slice(0, newline));
        partial = partial.slice(newline + 1);
        newline = partial.indexOf('\n');
      }
    });
    stream.on('end', () => {
      if (partial !== '') onLine(partial);
      partial = '';
    });
    // A child killed mid-write may leave the pipe in error; its exit is what matters.
    stream.on('error', () => undefined);
  }
}

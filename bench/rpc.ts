/**
 * A tiny request/response protocol between the bench orchestrator and its role
 * processes, over Node's IPC channel (fork): the orchestrator calls a command,
 * the role answers with its result. It carries measurements, never the
 * measured traffic, which goes through Redis.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpuSample } from './cpu-sample.js';

interface Request {
  id: number;
  command: string;
  args: unknown;
}

interface Response {
  id: number;
  result?: unknown;
  error?: string;
}

export type Commands = Record<string, (args: never) => unknown>;

/**
 * In a role process: serves `commands` until the orchestrator disconnects.
 * Every role also answers `noop`, and `cpu`: a CpuSample of this process, with
 * `count()`, the messages it counted so far (asks completed, tells received).
 */
export function serve(commands: Commands, count: () => number = () => 0): void {
  const builtIn: Commands = { noop: () => 'ok', cpu: () => cpuSample(count()) };
  process.on('message', (message: Request) => {
    const command = builtIn[message.command] ?? commands[message.command];
    const reply = (response: Omit<Response, 'id'>) =>
      process.send?.({ id: message.id, ...response });
    if (command === undefined) {
      reply({ error: `unknown command ${message.command}` });
      return;
    }
    Promise.resolve()
      .then(() => command(message.args as never))
      .then(
        (result) => reply({ result }),
        (error: unknown) =>
          reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ id: 0, result: 'ready' });
}

/** A role process seen from the orchestrator. */
export class Role {
  private nextId = 1;
  private readonly waiting = new Map<number, (response: Response) => void>();
  private readonly ready: Promise<void>;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    this.ready = new Promise((resolve, reject) => {
      process.once('exit', (code) => {
        reject(new Error(`${name} exited with code ${code}`));
      });
      process.on('message', (response: Response) => {
        if (response.id === 0) resolve();
        else this.waiting.get(response.id)?.(response);
      });
    });
  }

  static start(name: string, file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Role {
    const child = fork(file, args, {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Role(name, child);
  }

  async call<T>(command: string, args: unknown = {}): Promise<T> {
    await this.ready;
    const id = this.nextId++;
    const response = await new Promise<Response>((resolve) => {
      this.waiting.set(id, resolve);
      this.process.send({ id, command, args } satisfies Request);
    });
    this.waiting.delete(id);
    if (response.error !== undefined) throw new Error(`${this.name}.${command}: ${response.error}`);
    return response.result as T;
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.disconnect();
    await exited;
  }
}

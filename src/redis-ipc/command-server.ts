/**
 * The server side of redis-ipc command queues: BLPOP on the component's queue
 * (and subqueues), run the handler, RPUSH the result with the command's
 * `command_id` to its `results_queue`. Several servers of one component, in
 * one process or many, compete for commands; BLPOP hands each to exactly one.
 */
import type { DedicatedConnection } from '../internal.js';
import { type IpcIdentity, stamped } from './common-fields.js';
import { type IpcMessage, excerpt, parseIpcMessage, scrapeField } from './ipc-message.js';
import { commandQueue } from './names.js';

/** Seconds each BLPOP blocks: below the connection's liveness timeout, so a frozen server is still noticed. */
const BLOCK_SECONDS = '1';
const RETRY_MS = 250;

/** What a handler knows about the command besides its fields. */
export interface CommandContext {
  /** The list it came from, e.g. `queues.commands.printer.print`. */
  queue: string;
  /** The subqueue it came from; undefined for the component's main queue. */
  subqueue: string | undefined;
  /** The client's `command_id`. */
  commandId: string | number | undefined;
  /** The sender's common fields, as given. */
  sender: { component: unknown; thread: unknown; tid: unknown };
}

/**
 * Handles one command. What it returns is the result: an object is sent as
 * is, anything else as `{ "result": value }`. A throw sends `{ "error": message }`
 * (plus `"code"` when the error has one).
 */
export type CommandHandler = (command: IpcMessage, context: CommandContext) => unknown;

/** Options of {@link RedisIpc.serveCommands}. */
export interface ServeCommandsOptions {
  /**
   * Queues to serve: `undefined` (or `''`) is the component's main queue, a
   * string a subqueue. BLPOP takes from the first non-empty one in this order.
   * @default [undefined] (the main queue only)
   */
  subqueues?: (string | undefined)[];
  /**
   * Commands handled at once (each on a connection of its own).
   * @default 1
   */
  concurrency?: number;
}

/** Counters of a command server. */
export interface CommandServerStats {
  /** Commands handled and answered. */
  served: number;
  /** Handlers that threw (answered with an error result). */
  failed: number;
  /** Entries that were not commands (not JSON, not an object, bad results_queue). */
  invalid: number;
}

export interface CommandServerRuntime {
  identity: IpcIdentity;
  openConnection(name: string): Promise<DedicatedConnection>;
  /** RPUSH on the shared connection. */
  push(queue: string, text: string): Promise<void>;
  /** Logs the first event of each reason. */
  logOnce(reason: string, message: string): void;
}

export class CommandServer {
  readonly queues: string[];
  private readonly subqueueOf = new Map<string, string | undefined>();
  private readonly loops: Promise<void>[] = [];
  private readonly connections: DedicatedConnection[] = [];
  private stopping: Promise<void> | undefined;
  private running = true;
  private readonly counts: CommandServerStats = { served: 0, failed: 0, invalid: 0 };

  private constructor(
    private readonly runtime: CommandServerRuntime,
    private readonly handler: CommandHandler,
    subqueues: (string | undefined)[],
  ) {
    this.queues = subqueues.map((subqueue) => {
      const name = subqueue === '' ? undefined : subqueue;
      const queue = commandQueue(runtime.identity.component, name);
      this.subqueueOf.set(queue, name);
      return queue;
    });
  }

  /** Connects and starts serving; resolves once every loop has its connection. */
  static async start(
    runtime: CommandServerRuntime,
    handler: CommandHandler,
    options: ServeCommandsOptions,
  ): Promise<CommandServer> {
    const server = new CommandServer(runtime, handler, options.subqueues ?? [undefined]);
    const concurrency = options.concurrency ?? 1;
    try {
      for (let i = 0; i < concurrency; i++) {
        server.connections.push(await runtime.openConnection(`serve-${i}`));
      }
    } catch (error) {
      await Promise.all(server.connections.map((connection) => connection.close(0)));
      throw error;
    }
    for (const connection of server.connections) server.loops.push(server.serve(connection));
    return server;
  }

  stats(): CommandServerStats {
    return { ...this.counts };
  }

  /**
   * Stops taking commands: ends the BLPOPs under way (a command one already
   * took is still handled) and waits for the commands being handled.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      // Waiting BLPOPs return at once; a command one already took is still handled.
      await Promise.all(
        this.connections.map((connection) => connection.unblock().catch(() => undefined)),
      );
      await Promise.all(this.loops);
      await Promise.all(this.connections.map((connection) => connection.close()));
    })();
    return this.stopping;
  }

  private async serve(connection: DedicatedConnection): Promise<void> {
    while (this.running) {
      let reply;
      try {
        reply = await connection.call(['BLPOP', ...this.queues, BLOCK_SECONDS]);
      } catch (error) {
        if (this.stopping !== undefined) return;
        this.runtime.logOnce(
          'serve-failed',
          `cannot read ${this.queues.join(', ')}: ${String(error)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        continue;
      }
      if (!Array.isArray(reply) || reply.length < 2) continue;
      await this.handleEntry(String(reply[0]), reply[1] as Buffer);
    }
  }

  private async handleEntry(queue: string, raw: Buffer): Promise<void> {
    const parsed = parseIpcMessage(raw);
    if ('problem' in parsed) {
      this.refuse(queue, raw, parsed.problem);
      return;
    }
    const command = parsed.message;
    const resultsQueue = command.results_queue;
    const commandId = command.command_id;
    if (resultsQueue !== undefined && !isResultsQueue(resultsQueue)) {
      // Never RPUSH to a key a command names unless it is a results queue.
      this.refuse(
        queue,
        raw,
        `results_queue ${JSON.stringify(resultsQueue)} is not a queues.results.* list`,
      );
      return;
    }
    const context: CommandContext = {
      queue,
      subqueue: this.subqueueOf.get(queue),
      commandId: typeof commandId === 'number' ? commandId : idText(commandId),
      sender: { component: command.component, thread: command.thread, tid: command.tid },
    };
    let result: IpcMessage;
    try {
      result = asResult(await this.handler(command, context));
      this.counts.served++;
    } catch (error) {
      this.counts.failed++;
      result = errorResult(error);
    }
    if (resultsQueue === undefined) {
      this.runtime.logOnce(
        'no-results-queue',
        `a command on ${queue} had no results_queue; its result was not sent`,
      );
      return;
    }
    await this.answer(resultsQueue, commandId, result);
  }

  private async answer(
    resultsQueue: string,
    commandId: unknown,
    result: IpcMessage,
  ): Promise<void> {
    // As the C library: the result, the command's id, then our common fields.
    const text = JSON.stringify(
      stamped({ ...result, command_id: commandId }, this.runtime.identity),
    );
    try {
      await this.runtime.push(resultsQueue, text);
    } catch (error) {
      this.runtime.logOnce(
        'result-not-sent',
        `result for ${idText(commandId) ?? 'a command without id'} not sent to ${resultsQueue}: ${String(error)}`,
      );
    }
  }

  /** Logs and drops a bad entry; answers it when its results_queue and command_id can be read. */
  private refuse(queue: string, raw: Buffer, problem: string): void {
    this.counts.invalid++;
    this.runtime.logOnce(
      `invalid-command:${problem.split(' ')[0] ?? ''}`,
      `dropped an entry of ${queue}: ${problem}: ${excerpt(raw)}`,
    );
    const text = raw.toString('utf8');
    const resultsQueue = scrapeField(text, 'results_queue');
    const commandId = scrapeField(text, 'command_id');
    if (
      typeof resultsQueue === 'string' &&
      isResultsQueue(resultsQueue) &&
      commandId !== undefined
    ) {
      void this.answer(resultsQueue, commandId, { error: `invalid command: ${problem}` });
    }
  }
}

/** A command_id as text: strings and numbers as they are, anything else as JSON. */
export function idText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isResultsQueue(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('queues.results.') && value.length < 128;
}

function asResult(value: unknown): IpcMessage {
  if (value === undefined) return {};
  if (typeof value === 'object' && value !== null && !Array.isArray(value))
    return value as IpcMessage;
  return { result: value };
}

/** The result sent when a handler fails: `{ "error": message, "code"?: code }`. */
export function errorResult(error: unknown): IpcMessage {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' || typeof code === 'number'
    ? { error: message, code }
    : { error: message };
}

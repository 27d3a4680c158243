/**
 * An actor as a redis-ipc component: commands on the component's queues
 * become asks to the actor, and replies become results, so a C or Python
 * redis-ipc client can call redis-actors handlers unchanged.
 */
import type { MessageSender } from '../internal.js';
import type { CommandServer, ServeCommandsOptions } from './command-server.js';
import { type IpcMessage, ipcPayload } from './ipc-message.js';
import type { RedisIpc } from './redis-ipc.js';

/** Options of {@link serveActor}. */
export interface ServeActorOptions extends ServeCommandsOptions {
  /**
   * The command field naming the message type. Without it, a command on a
   * subqueue is of the subqueue's type (a `print` subqueue → `print` messages).
   * @default 'command'
   */
  typeField?: string;
  /**
   * Timeout of each ask to the actor.
   * @default the actor system's askTimeoutMs
   */
  timeoutMs?: number;
}

/**
 * Serves `ipc`'s command queues with the actor at `target` (an address or a
 * name), asked through `sender` (an actor system). The ask's body is the
 * command without redis-ipc's own fields (`results_queue`, `command_id`,
 * `timestamp`, `component`, `thread`, `tid`); a reply that is an object is the
 * result, any other reply is sent as `{ "result": reply }`, and a failure as
 * `{ "error": message, "code": code }`.
 */
export function serveActor(
  ipc: RedisIpc,
  sender: MessageSender,
  target: string,
  options: ServeActorOptions = {},
): Promise<CommandServer> {
  const typeField = options.typeField ?? 'command';
  return ipc.serveCommands(async (command, context) => {
    const named = command[typeField];
    const type = typeof named === 'string' ? named : context.subqueue;
    if (type === undefined) {
      throw new Error(
        `the command has no "${typeField}" field naming the message type for ${target}`,
      );
    }
    const body: IpcMessage = Object.fromEntries(
      Object.entries(ipcPayload(command)).filter(([field]) => field !== typeField),
    );
    return sender.ask(
      target,
      type,
      body,
      options.timeoutMs === undefined ? undefined : { timeoutMs: options.timeoutMs },
    );
  }, options);
}

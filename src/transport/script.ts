/**
 * A Lua script run by its SHA (EVALSHA), loaded with EVAL when the server's
 * script cache does not have it (after a restart or SCRIPT FLUSH).
 */
import { createHash } from 'node:crypto';
import { type CommandArgument, RedisReplyError, type RespValue } from './resp.js';
import type { ReplyCallback, Transport } from './transport.js';

export class Script {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    transport: Transport,
    keys: readonly string[],
    args: readonly CommandArgument[],
  ): Promise<RespValue> {
    const rest = [String(keys.length), ...keys, ...args];
    try {
      return await transport.command(['EVALSHA', this.sha, ...rest]);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return transport.command(['EVAL', this.source, ...rest]);
    }
  }

  /** {@link run} with a callback: no promise per call, for paths taken per message. */
  send(
    transport: Transport,
    keys: readonly string[],
    args: readonly CommandArgument[],
    callback: ReplyCallback,
  ): void {
    const rest = [String(keys.length), ...keys, ...args];
    transport.send(['EVALSHA', this.sha, ...rest], (error, reply) => {
      if (error === null || !isNoScript(error)) callback(error, reply);
      else transport.send(['EVAL', this.source, ...rest], callback);
    });
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof RedisReplyError && error.message.startsWith('NOSCRIPT');
}

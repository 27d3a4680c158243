/**
 * A Lua script run by its SHA (EVALSHA), loaded with EVAL when the server's
 * script cache does not have it (after a restart or SCRIPT FLUSH).
 */
import { createHash } from 'node:crypto';
import { RedisReplyError, type RespValue } from './resp.js';
import type { Transport } from './transport.js';

export class Script {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    transport: Transport,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<RespValue> {
    const rest = [String(keys.length), ...keys, ...args];
    try {
      return await transport.command(['EVALSHA', this.sha, ...rest]);
    } catch (error) {
      if (!(error instanceof RedisReplyError) || !error.message.startsWith('NOSCRIPT')) throw error;
      return transport.command(['EVAL', this.source, ...rest]);
    }
  }
}

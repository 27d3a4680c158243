/**
 * Where a command goes in a cluster: the slot of its first key (or channel),
 * or any master for a command without keys. Multi-key commands whose keys may
 * lie in several slots are split by slot (see {@link splitBySlot}).
 */
import type { CommandArgument, RespValue } from '../resp.js';
import { slotOf } from './slot.js';

/** The slot a command must run in, or `undefined` when any master will do. */
export function routeOf(args: readonly CommandArgument[]): number | undefined {
  const name = String(args[0]).toUpperCase();
  if (KEYLESS.has(name)) return undefined;
  if (name === 'EVAL' || name === 'EVALSHA') {
    return Number(args[2]) > 0 && args[3] !== undefined ? slotOfArgument(args[3]) : undefined;
  }
  if (name === 'PUBSUB') {
    // PUBSUB SHARDNUMSUB <channel>: the shard that owns the channel counts its subscribers.
    return args[2] === undefined ? undefined : slotOfArgument(args[2]);
  }
  return args[1] === undefined ? undefined : slotOfArgument(args[1]);
}

/** Commands with keys only, each of which may be sent on its own, with how to join the replies. */
const SPLITTABLE: Record<string, 'sum' | 'concat'> = {
  DEL: 'sum',
  UNLINK: 'sum',
  EXISTS: 'sum',
  TOUCH: 'sum',
  MGET: 'concat',
};

/** A multi-key command split into one command per slot, in key order. */
export interface SplitCommand {
  parts: { slot: number; args: CommandArgument[]; positions: number[] }[];
  join: 'sum' | 'concat';
  keyCount: number;
}

/** The command split by slot when its keys span several slots; `undefined` otherwise. */
export function splitBySlot(args: readonly CommandArgument[]): SplitCommand | undefined {
  const name = String(args[0]).toUpperCase();
  const join = SPLITTABLE[name];
  if (join === undefined || args.length <= 2) return undefined;
  const bySlot = new Map<number, { slot: number; args: CommandArgument[]; positions: number[] }>();
  for (let i = 1; i < args.length; i++) {
    const key = args[i] as CommandArgument;
    const slot = slotOfArgument(key);
    let part = bySlot.get(slot);
    if (part === undefined) {
      part = { slot, args: [args[0] as CommandArgument], positions: [] };
      bySlot.set(slot, part);
    }
    part.args.push(key);
    part.positions.push(i - 1);
  }
  if (bySlot.size === 1) return undefined;
  return { parts: [...bySlot.values()], join, keyCount: args.length - 1 };
}

/** The reply of a split command from the replies of its parts (in the order of `split.parts`). */
export function joinReplies(split: SplitCommand, replies: RespValue[]): RespValue {
  if (split.join === 'sum') return replies.reduce<number>((sum, reply) => sum + Number(reply), 0);
  const joined = new Array<RespValue>(split.keyCount).fill(null);
  split.parts.forEach((part, index) => {
    const values = replies[index];
    if (!Array.isArray(values)) return;
    part.positions.forEach((position, i) => {
      joined[position] = values[i] ?? null;
    });
  });
  return joined;
}

const KEYLESS = new Set(['PING', 'INFO', 'CLIENT', 'ACL', 'SCRIPT', 'CLUSTER', 'SELECT', 'TIME']);

function slotOfArgument(argument: CommandArgument): number {
  if (typeof argument === 'string' || Buffer.isBuffer(argument)) return slotOf(argument);
  if (Array.isArray(argument)) return slotOf(Buffer.concat(argument));
  return slotOf(String(argument));
}

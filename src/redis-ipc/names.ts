/**
 * The Redis keys and channels of redis-ipc, exactly as the C library and the
 * Python module name them. They are global: no namespace prefix, since being
 * found by unmodified redis-ipc components is the point.
 */
import { InvalidOptionError } from '../errors.js';

/** The C library refuses names of this length or more. */
const MAX_KEY_LENGTH = 128;

/**
 * Component, thread, subqueue and subchannel names: no whitespace, and none of
 * the glob characters `* ? [ ]` (subscriptions use patterns, where they would match
 * other names).
 */
export function assertIpcName(what: string, name: string): void {
  if (typeof name !== 'string' || name === '' || /[\s*?[\]]/.test(name)) {
    throw new InvalidOptionError(
      what,
      `${JSON.stringify(name)} must be a non-empty string without whitespace or * ? [ ]`,
    );
  }
}

function checked(key: string): string {
  if (key.length >= MAX_KEY_LENGTH) {
    throw new InvalidOptionError(
      'redis-ipc name',
      `"${key}" is ${key.length} characters; redis-ipc names must be shorter than ${MAX_KEY_LENGTH}`,
    );
  }
  return key;
}

function withPart(base: string, part: string | undefined, what: string): string {
  if (part === undefined) return checked(base);
  assertIpcName(what, part);
  return checked(`${base}.${part}`);
}

/** `queues.commands.<component>[.<subqueue>]`: a list; clients RPUSH, servers BLPOP. */
export function commandQueue(component: string, subqueue?: string): string {
  assertIpcName('component', component);
  return withPart(`queues.commands.${component}`, subqueue, 'subqueue');
}

/** `queues.results.<component>.<thread>`: the list a client's results come back on. */
export function resultsQueue(component: string, thread: string): string {
  assertIpcName('component', component);
  assertIpcName('thread', thread);
  return checked(`queues.results.${component}.${thread}`);
}

/** `settings.<component>`: a hash of strings. */
export function settingsKey(component: string): string {
  assertIpcName('component', component);
  return checked(`settings.${component}`);
}

/** `status.<component>`: a hash of strings, written by the component itself. */
export function statusKey(component: string): string {
  assertIpcName('component', component);
  return checked(`status.${component}`);
}

/** `channel.events.<component>[.<subchannel>]`. */
export function eventChannel(component: string, subchannel?: string): string {
  assertIpcName('component', component);
  return withPart(`channel.events.${component}`, subchannel, 'subchannel');
}

/** `channel.debug.<component>`. */
export function debugChannel(component: string): string {
  assertIpcName('component', component);
  return checked(`channel.debug.${component}`);
}

/**
 * Patterns (PSUBSCRIBE) for events of `component` (any when undefined) on
 * `subchannel` (any when undefined, including none). For a component without a
 * subchannel the C library subscribes `channel.events.<component>*`, which also
 * matches components whose names merely start the same; two exact patterns avoid that.
 */
export function eventPatterns(component?: string, subchannel?: string): string[] {
  if (component !== undefined) assertIpcName('component', component);
  if (subchannel !== undefined) assertIpcName('subchannel', subchannel);
  if (component === undefined) {
    return subchannel === undefined ? ['channel.events.*'] : [`channel.events.*.${subchannel}`];
  }
  if (subchannel !== undefined) return [eventChannel(component, subchannel)];
  return [eventChannel(component), `channel.events.${component}.*`];
}

/** Patterns for debug messages of `component`, or of every component. */
export function debugPattern(component?: string): string {
  return component === undefined ? 'channel.debug.*' : debugChannel(component);
}

/** The component and subchannel an event channel name stands for. */
export function parseEventChannel(
  channel: string,
): { component: string; subchannel: string | undefined } | undefined {
  const match = /^channel\.events\.([^.]+)(?:\.(.+))?$/.exec(channel);
  if (match === null) return undefined;
  return { component: match[1] as string, subchannel: match[2] };
}

/** The actor of the ping-pong example: answers `ping` asks and prints `note` tells. */
import { defineActor } from 'redis-actors';

let pings = 0;

export const pongActor = defineActor({
  handlers: {
    /** Ask: replies with a numbered pong. */
    ping: (text: string, context) => {
      pings++;
      return `pong #${pings} to "${text}" from ${context.self}`;
    },
    /** Tell: one-way, nothing comes back. */
    note: (text: string, context) => {
      console.log(`note from ${context.sender}: ${text}`);
    },
  },
});

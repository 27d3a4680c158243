/** The commands that open a connection: authenticate, select the database, name the client. */
import { PermissionError } from '../errors.js';
import { asPermissionError } from './permission.js';
import type { RedisEndpoint } from './redis-url.js';
import type { CommandArgument } from './resp.js';

export function handshakeSteps(endpoint: RedisEndpoint, clientName: string): CommandArgument[][] {
  const steps: CommandArgument[][] = [];
  if (endpoint.password !== undefined) {
    steps.push(
      endpoint.username === undefined
        ? ['AUTH', endpoint.password]
        : ['AUTH', endpoint.username, endpoint.password],
    );
  }
  if (endpoint.db !== 0) steps.push(['SELECT', String(endpoint.db)]);
  steps.push(['CLIENT', 'SETNAME', clientName]);
  // Its id lets another connection end a blocking command on this one (CLIENT UNBLOCK).
  steps.push(['CLIENT', 'ID']);
  return steps;
}

/** Why the connection is closed after `command` of the handshake failed: an ACL refusal as such. */
export function handshakeFailure(command: string, error: Error, user: string): Error {
  const refused = asPermissionError(error, command, user);
  return refused instanceof PermissionError
    ? refused
    : new Error(`${command} failed: ${error.message}`);
}

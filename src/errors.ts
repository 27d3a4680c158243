/**
 * Every failure the framework reports is one of these classes. Each has a stable
 * `code` (for logs and for programs) and a message that says what to do next.
 *
 * @module
 */

/** Base class of every error raised by redis-actors. */
export class RedisActorsError extends Error {
  /** Stable, machine-readable identifier of the failure, e.g. `ASK_TIMEOUT`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An `ask` got no reply before its deadline. */
export class AskTimeoutError extends RedisActorsError {
  static readonly code = 'ASK_TIMEOUT';
  constructor(
    readonly to: string,
    readonly type: string,
    readonly timeoutMs: number,
    /** Why, when known (e.g. the connection to Redis was down). */
    detail?: string,
  ) {
    super(
      AskTimeoutError.code,
      `ask "${type}" to ${to} got no reply within ${timeoutMs} ms` +
        (detail === undefined ? '' : ` (${detail})`) +
        `. Check that the actor is running and not overloaded (redis-actors ls), ` +
        `or pass a larger { timeoutMs }.`,
    );
  }
}

/** A redis-ipc command got no result before its timeout. */
export class CommandTimeoutError extends RedisActorsError {
  static readonly code = 'COMMAND_TIMEOUT';
  constructor(
    /** The command queue it was pushed to. */
    readonly queue: string,
    readonly commandId: string,
    readonly timeoutMs: number,
  ) {
    super(
      CommandTimeoutError.code,
      `command ${commandId} on ${queue} got no result within ${timeoutMs} ms. ` +
        `Check that a server of that component runs (\`redis-cli LLEN ${queue}\` counts commands ` +
        `nobody took), or pass a larger { timeoutMs }.`,
    );
  }
}

/** PUBLISH reached no subscriber: nobody listens on that mailbox right now. */
export class NoRecipientError extends RedisActorsError {
  static readonly code = 'NO_RECIPIENT';
  constructor(
    readonly to: string,
    readonly channel: string,
  ) {
    super(
      NoRecipientError.code,
      `nobody is listening on mailbox ${to} (channel "${channel}"). ` +
        `Check the address or name (redis-actors ls) and that the actor runs in the same namespace.`,
    );
  }
}

/** What a remote handler threw, as it travels back to the asker. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  code?: string | undefined;
  stack?: string | undefined;
}

/**
 * A mailbox of this process is no longer subscribed and could not be
 * resubscribed (the server refused, e.g. NOPERM after an ACL change, or probes
 * through Redis kept getting lost): messages sent to it are lost until it is back.
 */
export class MailboxLostError extends RedisActorsError {
  static readonly code = 'MAILBOX_LOST';
  constructor(
    readonly address: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      MailboxLostError.code,
      `mailbox ${address} is not subscribed: ${detail}. Messages to it are lost until it is; ` +
        `resubscribing is retried. Check the Redis user's channel permissions (ACL) and the ` +
        `server's health; a supervised actor exits so that its supervisor restarts it.`,
      options,
    );
  }
}

/** The remote handler threw; its name, message, code and stack are kept. */
export class RemoteError extends RedisActorsError {
  static readonly code = 'REMOTE_ERROR';
  /** `name` of the error thrown by the remote handler (e.g. `TypeError`). */
  readonly remoteName: string;
  /** `message` of the remote error. */
  readonly remoteMessage: string;
  /** `code` of the remote error, when it had a string `code`. */
  readonly remoteCode: string | undefined;
  /** Stack trace of the remote error, from the remote process. */
  readonly remoteStack: string | undefined;

  constructor(
    readonly from: string,
    readonly type: string,
    info: RemoteErrorInfo,
  ) {
    super(
      RemoteError.code,
      `${from} failed handling "${type}": ${info.name}: ${info.message}` +
        (info.code === undefined ? '' : ` [${info.code}]`) +
        `. The error was raised by the remote handler; see remoteStack for where.`,
    );
    this.remoteName = info.name;
    this.remoteMessage = info.message;
    this.remoteCode = info.code;
    this.remoteStack = info.stack;
  }
}

/** Redis could not be reached, or the connection was lost while a command was in flight. */
/** Node's TLS errors for a certificate it cannot verify. */
/** What to do about a connection failure, by what the failure says. */
function connectionAdvice(url: string, detail: string): string {
  if (
    /alert certificate required|alert handshake failure|peer did not return a certificate/i.test(
      detail,
    )
  )
    return (
      `The server wants a client certificate (tls-auth-clients): give it with the tls.cert and ` +
      `tls.key options, REDIS_ACTORS_TLS_CERT and REDIS_ACTORS_TLS_KEY, or --tls-cert and --tls-key.`
    );
  // Under TLS 1.3 a server that wants a client certificate closes the connection after the handshake.
  if (url.startsWith('rediss:') && /Connection is closed|socket hang up|ECONNRESET/i.test(detail))
    return (
      `The server closed the TLS connection: if it wants a client certificate (tls-auth-clients), ` +
      `give it with the tls.cert and tls.key options, REDIS_ACTORS_TLS_CERT and ` +
      `REDIS_ACTORS_TLS_KEY, or --tls-cert and --tls-key; else check the server's log.`
    );
  if (/certificate|self[- ]signed|unable to verify/i.test(detail))
    return (
      `The server's TLS certificate is not trusted: give its CA ` +
      `with the tls.ca option, REDIS_ACTORS_TLS_CA (a PEM file or text) or --tls-ca.`
    );
  if (/WRONGPASS|invalid (username-)?password/i.test(detail))
    return (
      `The server refused the user or password: check the user:password part of the URL ` +
      `(redis://user:password@host:port), percent-encoding special characters.`
    );
  if (/DENIED|protected mode/i.test(detail))
    return (
      `The server runs in protected mode: it takes clients from elsewhere than its own ` +
      `machine only with a password. Set one (requirepass, or an ACL user) and put it in ` +
      `the URL (redis://:password@host:port), or start redis-server with --protected-mode no ` +
      `on a network you trust.`
    );
  if (/NOAUTH|authentication required/i.test(detail))
    return (
      `The server needs a password: put it in the URL, redis://:password@host:port ` +
      `(or redis://user:password@host:port for an ACL user).`
    );
  return (
    `Check that redis-server runs there ` +
    `(redis-cli -u ${url} ping), or set REDIS_URL / the url option.`
  );
}

export class ConnectionError extends RedisActorsError {
  static readonly code = 'CONNECTION';
  constructor(
    readonly url: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      ConnectionError.code,
      `Redis at ${url}: ${detail}. ${connectionAdvice(url, detail)}`,
      options,
    );
  }
}

/** A message is larger than the configured limit; nothing was sent. */
export class MessageTooLargeError extends RedisActorsError {
  static readonly code = 'MESSAGE_TOO_LARGE';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      MessageTooLargeError.code,
      `message of ${size} bytes exceeds the limit of ${limit} bytes. ` +
        `Send less per message, or raise maxMessageBytes on both sender and receiver.`,
    );
  }
}

/** Input that is not a valid message: wrong types, bad envelope, unsafe body. */
export class InvalidMessageError extends RedisActorsError {
  static readonly code = 'INVALID_MESSAGE';
  constructor(
    readonly reason: string,
    message?: string,
  ) {
    super(
      InvalidMessageError.code,
      message ?? `invalid message: ${reason}. See docs/PROTOCOL.md for the envelope format.`,
    );
  }
}

/** The actor system is stopping or stopped; the operation was not carried out. */
export class ShuttingDownError extends RedisActorsError {
  static readonly code = 'SHUTTING_DOWN';
  constructor(what = 'the actor system') {
    super(
      ShuttingDownError.code,
      `${what} is shutting down; the message was not processed. ` +
        `Retry against another instance, or start the system again.`,
    );
  }
}

/** The recipient's mailbox was full and its overflow policy rejected the message. */
export class MailboxFullError extends RedisActorsError {
  static readonly code = 'MAILBOX_FULL';
  constructor(
    readonly address: string,
    readonly capacity: number,
  ) {
    super(
      MailboxFullError.code,
      `mailbox of ${address} is full (${capacity} messages waiting). ` +
        `Slow down, add more actors, or raise mailbox.capacity.`,
    );
  }
}

/** The recipient has no handler for this message type. */
export class UnknownMessageTypeError extends RedisActorsError {
  static readonly code = 'UNKNOWN_MESSAGE_TYPE';
  constructor(
    readonly address: string,
    readonly type: string,
    readonly known: readonly string[],
  ) {
    super(
      UnknownMessageTypeError.code,
      `${address} has no handler for message type "${type}". ` +
        `It handles: ${known.length > 0 ? known.join(', ') : '(nothing)'}.`,
    );
  }
}

/** No Redis could be found or started. */
export class BrokerNotFoundError extends RedisActorsError {
  static readonly code = 'BROKER_NOT_FOUND';
  constructor(
    detail: string,
    /** What to do, when it is not getting a Redis one of the three usual ways. */
    readonly advice?: string,
  ) {
    super(
      BrokerNotFoundError.code,
      `no Redis available (${detail}). ` +
        (advice ??
          `Get one of three ways: ` +
            `set REDIS_URL=redis://host:port to use a running server; ` +
            `or install redis-server (e.g. apt-get install redis-server) so a private one is started; ` +
            `or start Docker so a redis:7 container can be used (needs the testcontainers package).`),
    );
  }
}

/**
 * Redis refused a command for this connection's user (NOPERM): an ACL that does
 * not grant the command, or the key or channel it uses.
 */
export class PermissionError extends RedisActorsError {
  static readonly code = 'PERMISSION_DENIED';
  constructor(
    /** The command refused, e.g. `SUBSCRIBE`. */
    readonly command: string,
    /** The Redis user the connection authenticated as (`default` without one). */
    readonly user: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      PermissionError.code,
      `Redis user "${user}" may not run ${command} (${detail.replace(/\.$/, '')}). ` +
        `Connect in the namespace this user was made for (the namespace option or ` +
        `REDIS_ACTORS_NAMESPACE), or have an admin grant it what its namespace needs: ` +
        `\`redis-actors acl <namespace> --user ${user} --apply\` (docs/SECURITY.md).`,
      options,
    );
  }
}

/** An option or argument has a value the framework cannot use. */
export class InvalidOptionError extends RedisActorsError {
  static readonly code = 'INVALID_OPTION';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(InvalidOptionError.code, `invalid ${option}: ${detail}`);
  }
}

/**
 * `ctx.once(key, …)` found `key` being run right now by another live
 * consumer (a redelivery of the same message overtook the first delivery).
 * Thrown out of the handler, it makes the message be delivered again later,
 * when the first run has finished (its result is then returned) or died.
 */
export class OnceInProgressError extends RedisActorsError {
  static readonly code = 'ONCE_IN_PROGRESS';
  constructor(
    readonly key: string,
    readonly holder: string,
  ) {
    super(
      OnceInProgressError.code,
      `once("${key}") is being run by ${holder} right now. Let the handler fail: the ` +
        `message is delivered again later and gets the result of that run.`,
    );
  }
}

/** Another live actor already uses this name. */
export class NameTakenError extends RedisActorsError {
  static readonly code = 'NAME_TAKEN';
  constructor(readonly actorName: string) {
    super(
      NameTakenError.code,
      `an actor named "${actorName}" is already live in this namespace (see redis-actors ls). ` +
        `Choose another name, or stop that actor first. A name whose owner died without ` +
        `stopping is free again once nothing subscribes it and its process's address claim ` +
        `went unrefreshed for two presence intervals (4 s by default), or at once when its ` +
        `supervisor saw it exit.`,
    );
  }
}

/**
 * A child process could not be started: it exited, or sent no READY in time,
 * or (a TypeScript module without the tsx loader) it could not be run at all.
 */
export class SpawnError extends RedisActorsError {
  static readonly code = 'SPAWN_FAILED';
  constructor(
    readonly childName: string,
    readonly module: string,
    /**
     * `exited`: the child exited before READY; `ready-timeout`: no READY in time
     * (it was killed); `loader-missing`: the module is TypeScript and tsx is not
     * installed, so no process was started.
     */
    readonly reason: 'exited' | 'ready-timeout' | 'loader-missing',
    readonly exitCode: number | null,
    readonly signal: string | null,
    /** Last lines the child wrote to stderr. */
    readonly stderrTail: readonly string[],
    detail: string,
  ) {
    super(
      SpawnError.code,
      `child "${childName}" (${module}) ${detail}.` +
        // No process ran: there is no output to show, and the detail says what to install.
        (reason === 'loader-missing'
          ? ''
          : (stderrTail.length > 0
              ? ` Last stderr lines:\n  ${stderrTail.join('\n  ')}`
              : ' It wrote nothing to stderr.') +
            `\nCheck that the module runs on its own (node ${module}) and calls runActor().`),
    );
  }
}

/** A supervisor exceeded its restart intensity, stopped its children and gave up. */
export class EscalationError extends RedisActorsError {
  static readonly code = 'ESCALATION';
  constructor(
    readonly restarts: number,
    readonly intensity: number,
    readonly periodMs: number,
    readonly lastFailure: string,
  ) {
    super(
      EscalationError.code,
      `supervisor gave up after ${restarts} restarts within ${periodMs} ms (intensity ${intensity}); ` +
        `last failure: ${lastFailure}. All its children were stopped. ` +
        `Fix the crashing child, or raise intensity / periodMs if such restarts are expected.`,
    );
  }
}

/**
 * The Redis server would not enter MONITOR mode (NOPERM, an unknown, renamed
 * or disabled command), and `monitor(…, { mode: 'monitor' })` may not fall back.
 */
export class MonitorRefusedError extends RedisActorsError {
  static readonly code = 'MONITOR_REFUSED';
  constructor(
    /** The server's error reply, e.g. `NOPERM this user has no permissions to run the 'monitor' command`. */
    readonly reply: string,
    /** The Redis user that asked. */
    readonly user: string,
  ) {
    super(
      MonitorRefusedError.code,
      `Redis refused MONITOR for user "${user}": ${reply}. Watch with a pattern subscription ` +
        `instead (mode 'auto' or 'psubscribe'; it counts as a receiver of every channel), or ` +
        `connect as a user allowed to run MONITOR.`,
    );
  }
}

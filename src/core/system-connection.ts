/**
 * What an actor system starts from: its connection to Redis (signing every
 * payload when there is a namespace secret) and its process address, claimed
 * in Redis so that no other live process shares the mailbox.
 */
import { nanoid } from 'nanoid';
import { claimProcessAddress } from '../registry/index.js';
import { type Transport, connectTransport, tuningOf } from '../transport/index.js';
import {
  CLAIM_NONCE_ENV,
  Names,
  PayloadAuth,
  combineEnvelopeTexts,
  nextProcessAddress,
} from '../wire/index.js';
import type { SystemIdentity } from './assemble.js';
import type { ResolvedActorSystemOptions } from './options.js';

/** Connects and claims the process address; closes the connection if the claim fails. */
export async function openSystemConnection(
  options: ResolvedActorSystemOptions,
): Promise<{ transport: Transport; identity: SystemIdentity }> {
  const wanted = nextProcessAddress();
  const auth = options.secret === undefined ? undefined : new PayloadAuth(options.secret);
  const transport = await connectTransport({
    ...tuningOf(options),
    url: options.url,
    clientName: `${options.namespace}:${wanted}`,
    tls: options.tls,
    combinePublishes: combineEnvelopeTexts,
    ...(auth === undefined
      ? {}
      : { signPayload: (channel: string, payload: string) => auth.signText(channel, payload) }),
  });
  try {
    const nonce = takeInheritedNonce() ?? nanoid(12);
    const { address, why } = await claimProcessAddress(
      transport,
      new Names(options.namespace),
      wanted,
      nonce,
      { ttlMs: options.presenceTtlMs, staleAfterMs: 2 * options.presenceIntervalMs },
    );
    if (why !== undefined) options.logger.warn(why);
    return { transport, identity: { address, nonce, auth } };
  } catch (error) {
    await transport.close();
    throw error;
  }
}

/**
 * The claim nonce a supervisor gave this process (see CLAIM_NONCE_ENV), for
 * its first actor system only: taken out of the environment, so neither a
 * second system nor a process this one starts shares it.
 */
function takeInheritedNonce(): string | undefined {
  const nonce = process.env[CLAIM_NONCE_ENV];
  Reflect.deleteProperty(process.env, CLAIM_NONCE_ENV);
  return nonce !== undefined && /^[\w-]{12}$/.test(nonce) ? nonce : undefined;
}

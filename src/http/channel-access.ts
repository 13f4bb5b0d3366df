import type { FastifyRequest } from 'fastify';
import { parseStoreFlowChannel } from '../reactions/index.js';
import { AppError } from '../shared/index.js';
import type { OrderStore, Principal, TenancyStore } from '../store/index.js';

/** What a granted subscription carries: presence channels add the member's identity. */
export interface ChannelGrant {
  presence?: { user_id: string; user_info: { name: string; role: string } };
}

/**
 * Who may join which StoreFlow channel (DESIGN.md §5). Anything not named here is refused,
 * so a new channel is private until a rule is written for it.
 *
 * - `private-store.{id}.orders|notifications|catalog`, `presence-store.{id}`: members of that
 *   store, any role (the same rule as the store's catch-up endpoint). A store of another
 *   merchant and a store that does not exist answer alike.
 * - `private-merchant.{id}.notifications`: users of that merchant with a store membership.
 * - `customer.{publicId}.order`: public — pusher-js never asks; if asked, granted when the
 *   order exists (the unguessable id is the credential).
 * - `private-customer.{publicId}.loyalty`: refused until customers can sign in.
 */
export async function channelAccess(
  channel: string,
  request: FastifyRequest,
  deps: { tenancy: TenancyStore; orders: OrderStore },
): Promise<ChannelGrant> {
  const parsed = parseStoreFlowChannel(channel);
  if (!parsed) return refuse('denied', channel);
  if (parsed.kind === 'customer-order') {
    return (await deps.orders.getByPublicId(parsed.publicId)) ? {} : refuse('denied', channel);
  }
  const user = signedInFor(channel, request);
  switch (parsed.kind) {
    case 'store':
    case 'store-presence': {
      const membership = await deps.tenancy.roleIn(user.userId, parsed.storeId);
      if (!membership || membership.merchantId !== user.merchantId) return refuse('denied', channel);
      if (parsed.kind === 'store') return {};
      return { presence: { user_id: String(user.userId), user_info: { name: user.name, role: membership.role } } };
    }
    case 'merchant-notifications': {
      const memberships = await deps.tenancy.memberships(user.userId);
      const member = user.merchantId === parsed.merchantId && memberships.some((m) => m.merchant_id === parsed.merchantId);
      return member ? {} : refuse('denied', channel);
    }
    case 'customer-loyalty':
      return refuse('denied', channel);
  }
}

function signedInFor(channel: string, request: FastifyRequest): Principal {
  if (request.csrfRejected) refuse('csrf', channel);
  if (!request.principal) refuse('anonymous', channel);
  return request.principal;
}

/**
 * Every denial is a 403, as Laravel's broadcaster answers (pusher-js then reports the
 * subscription as failed). A cookie without its CSRF token keeps its own code.
 */
export function refuse(why: 'csrf' | 'anonymous' | 'denied', channel?: string): never {
  if (why === 'csrf') throw new AppError('CSRF_TOKEN_INVALID');
  const details = channel === undefined ? undefined : { channel };
  if (why === 'anonymous') {
    throw new AppError('CHANNEL_FORBIDDEN', details, 'Sign in (session cookie with X-CSRF-TOKEN, or a bearer token) first.');
  }
  throw new AppError('CHANNEL_FORBIDDEN', details);
}

import type { FastifyRequest } from 'fastify';
import { AppError } from '../shared/index.js';
import type { TenancyStore } from '../store/index.js';
import { principalOf } from './auth.js';

/**
 * For merchant-wide settings (webhooks, notification settings): the caller must own at least
 * one store of their own merchant. Answers the caller's user and merchant ids.
 */
export async function merchantOwnerOf(request: FastifyRequest, tenancy: TenancyStore): Promise<{ userId: number; merchantId: number }> {
  const p = principalOf(request);
  const memberships = await tenancy.memberships(p.userId);
  if (!memberships.some((m) => m.role === 'owner' && m.merchant_id === p.merchantId)) throw new AppError('MERCHANT_OWNER_REQUIRED');
  return { userId: p.userId, merchantId: p.merchantId };
}

import { z } from 'zod';
import { FULFILMENT_TYPES, MAX_LINES, MAX_QUANTITY, ORDER_STATUSES } from '../domain/index.js';

/** Request shapes shared by several routes. Validation happens here, at the edge, once. */
const idValue = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** An id in a path: decimal digits only, so "0x10", "1e1" or " 1" never name a row. */
export const id = z.string().regex(/^[0-9]{1,16}$/, 'a positive decimal id').transform(Number).pipe(idValue);
/** An id in a JSON body is a JSON number: `true`, `"2"` or `[2]` are wrong types, not ids. */
export const bodyId = idValue;
export const storeParams = z.object({ storeId: id });
export const orderParams = z.object({ storeId: id, orderId: id });
export const publicIdParams = z.object({ publicId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/) });

const text = (max: number) => z.string().trim().min(1).max(max);

export const checkoutBody = z
  .object({
    fulfilment_type: z.enum(FULFILMENT_TYPES),
    items: z
      .array(z.object({ product_id: bodyId, quantity: z.number().int().min(1).max(MAX_QUANTITY) }).strict())
      .min(1)
      .max(MAX_LINES),
    customer: z
      .object({
        name: text(200),
        email: z.email().max(254),
        phone: z.string().trim().max(40).regex(/^[0-9+()\s.-]*$/).nullish().transform((v) => v || null),
      })
      .strict(),
    shipping_address: z
      .object({
        line1: text(200),
        line2: z.string().trim().max(200).nullish().transform((v) => v || null),
        city: text(100),
        postal_code: text(20),
        region: z.string().trim().max(100).nullish().transform((v) => v || null),
        country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 country code'),
      })
      .strict()
      .nullish(),
    shipping_method: z.string().max(50).nullish(),
  })
  .strict();

/** The expected version travels in the body or in If-Match; one of them is required. */
const version = z.number().int().positive().optional();
const reason = z.string().max(500).optional();
const trackingCode = z.string().max(100).optional();
const trackingUrl = z.string().max(2000).optional();

export const statusBody = z
  .object({ status: z.enum(ORDER_STATUSES), reason, tracking_code: trackingCode, tracking_url: trackingUrl, version })
  .strict();
export const shipBody = z.object({ tracking_code: trackingCode, tracking_url: trackingUrl, version }).strict();
export const reasonBody = z.object({ reason, version }).strict();
export const overrideBody = z
  .object({ status: z.enum(ORDER_STATUSES), reason, tracking_code: trackingCode, tracking_url: trackingUrl, version })
  .strict();

export const ifMatchHeaders = z.object({ 'if-match': z.string().max(40).optional() }).passthrough();

export const eventsQuery = z.object({
  after: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * The one registry of application error codes. Every HTTP error body is
 * `{error: {code, message, details?}}` with a code from this table; docs/errors.md lists
 * the same table and a test keeps the two in step. Handlers never write a code literal:
 * they throw `new AppError('CODE', …)`.
 */
export const ERROR_REGISTRY = {
  VALIDATION_FAILED: { status: 400, message: 'The request is malformed or has invalid fields.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body has an unsupported content type.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  AUTH_REQUIRED: { status: 401, message: 'Sign in or send a valid bearer token.' },
  AUTH_INVALID_CREDENTIALS: { status: 401, message: 'Email or password is wrong.' },
  AUTH_ACCOUNT_LOCKED: { status: 423, message: 'Too many failed sign-ins; the account is locked for a while.' },
  CSRF_TOKEN_INVALID: { status: 403, message: 'Cookie-authenticated changes need a valid X-CSRF-TOKEN header.' },
  TENANT_FORBIDDEN: { status: 403, message: 'You have no access to this store.' },
  ROLE_FORBIDDEN: { status: 403, message: 'Your role in this store does not allow this action.' },
  OPERATOR_FORBIDDEN: { status: 403, message: 'Only store owners and platform admins may do this.' },
  ADMIN_FORBIDDEN: { status: 403, message: 'Only platform admins may do this: it affects every merchant.' },
  CHANNEL_FORBIDDEN: { status: 403, message: 'You may not subscribe to this channel.' },
  NOT_FOUND: { status: 404, message: 'No such resource.' },
  SUBSCRIPTION_NOT_FOUND: { status: 404, message: 'No such subscription.' },
  DEAD_LETTER_NOT_FOUND: { status: 404, message: 'No such open dead letter.' },
  REPLAY_NOT_FOUND: { status: 404, message: 'No such replay.' },
  SUBSCRIPTION_NOT_REPLAYABLE: { status: 422, message: 'This subscription counts what it sees; rebuild it instead of replaying a range.' },
  SUBSCRIPTION_NOT_REBUILDABLE: { status: 422, message: 'This subscription is not a projection and cannot be rebuilt.' },
  NOTIFICATION_NOT_FOUND: { status: 404, message: 'No such notification.' },
  WEBHOOK_ENDPOINT_NOT_FOUND: { status: 404, message: 'No such webhook endpoint.' },
  WEBHOOK_URL_FORBIDDEN: { status: 422, message: 'Webhook URLs may not point at a private, loopback or link-local address.' },
  WEBHOOK_ENDPOINT_LIMIT: { status: 422, message: 'This merchant already has as many webhook endpoints as allowed.' },
  MERCHANT_OWNER_REQUIRED: { status: 403, message: "Only an owner of one of the merchant's stores may do this." },
  ORDER_NOT_FOUND: { status: 404, message: 'No such order in this store.' },
  PRODUCT_NOT_FOUND: { status: 404, message: 'No such product in this store.' },
  ORDER_INVALID_TRANSITION: { status: 422, message: 'The order cannot move to that status from its current one.' },
  ORDER_VERSION_CONFLICT: { status: 409, message: 'The order was changed by someone else; reload it and try again.' },
  ORDER_VERSION_REQUIRED: { status: 428, message: 'Send the expected order version (If-Match header or "version" field).' },
  ORDER_TRACKING_CODE_REQUIRED: { status: 422, message: 'Shipping an order needs a non-empty tracking code.' },
  ORDER_REASON_REQUIRED: { status: 422, message: 'This action needs a reason.' },
  CHECKOUT_PRODUCT_UNAVAILABLE: { status: 422, message: 'A product in the cart is unknown or no longer sold.' },
  CHECKOUT_SHIPPING_METHOD_INVALID: { status: 422, message: 'The shipping method is not offered by this store.' },
  CHECKOUT_ADDRESS_REQUIRED: { status: 422, message: 'Shipping orders need a delivery address.' },
  CHECKOUT_CURRENCY_MISMATCH: { status: 422, message: 'All products in one order must share the store currency.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: 'This Idempotency-Key was already used for a different request.' },
  EVENT_SCHEMA_INVALID: { status: 500, message: 'An event did not match its schema and was not appended.' },
  CHECKPOINT_INVALID: { status: 400, message: 'The "after" checkpoint is not of the form <transaction>.<position>.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; slow down.' },
  DATABASE_UNAVAILABLE: { status: 503, message: 'The database is not reachable right now.' },
  NOT_READY: { status: 503, message: 'This node is not taking traffic: a required dependency is down or it is shutting down.' },
  REALTIME_UNAVAILABLE: { status: 503, message: 'The real-time server is not serving on this node (starting or shutting down).' },
  WEB_ASSETS_MISSING: { status: 503, message: 'The web screens are not built on this node: run `npm run build:web` (npm start does it).' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_REGISTRY;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, details?: Record<string, unknown>, message?: string) {
    super(message ?? ERROR_REGISTRY[code].message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_REGISTRY[code].status;
    this.details = details;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

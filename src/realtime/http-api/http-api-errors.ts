/**
 * The one registry of the Pusher HTTP API's errors: code -> status -> message. Bodies are
 * plain text, as Pusher's are (the SDKs surface them as the error's `body`); a `detail`
 * may follow the message after ": ". Handlers throw `new PusherHttpError('CODE')`.
 */
export const PUSHER_HTTP_ERRORS = {
  UNKNOWN_APP: { status: 404, message: 'Unknown app' },
  AUTH_PARAMS_MISSING: { status: 401, message: 'Missing auth_key, auth_timestamp, auth_version or auth_signature' },
  UNKNOWN_AUTH_KEY: { status: 401, message: 'Unknown auth_key' },
  AUTH_VERSION_UNSUPPORTED: { status: 401, message: 'Unsupported auth_version (use 1.0)' },
  TIMESTAMP_EXPIRED: { status: 401, message: 'Timestamp expired: auth_timestamp must be within 600 s of server time' },
  BODY_MD5_MISSING: { status: 401, message: 'Missing body_md5: a request with a body must sign its MD5' },
  BODY_MD5_INVALID: { status: 401, message: 'Invalid body_md5: it must be the hex MD5 of the raw body' },
  SIGNATURE_INVALID: { status: 401, message: 'Invalid signature: expected the hex HMAC-SHA256 of the string to sign' },
  APP_DISABLED: { status: 403, message: 'Application disabled' },
  QUERY_INVALID: { status: 400, message: 'Invalid query' },
  MALFORMED_JSON: { status: 400, message: 'Request body is not valid JSON' },
  BODY_INVALID: { status: 400, message: 'Invalid request body' },
  TOO_MANY_CHANNELS: { status: 400, message: 'Too many channels: at most 100 per event' },
  CHANNEL_NAME_INVALID: { status: 400, message: 'Invalid channel name' },
  EVENT_NAME_INVALID: { status: 400, message: 'Invalid event name: 1 to 200 characters, not pusher: or pusher_internal:' },
  SOCKET_ID_INVALID: { status: 400, message: 'Invalid socket_id' },
  USER_ID_INVALID: { status: 400, message: 'Invalid user id' },
  BATCH_TOO_LARGE: { status: 400, message: 'Batch too large: at most 10 events' },
  USER_COUNT_PRESENCE_ONLY: { status: 400, message: 'user_count is only available for presence channels' },
  NOT_A_PRESENCE_CHANNEL: { status: 400, message: 'Users can only be listed for presence channels' },
  DATA_TOO_LARGE: { status: 413, message: 'Event data too large' },
  BODY_TOO_LARGE: { status: 413, message: 'Request body too large' },
  CLUSTER_UNAVAILABLE: { status: 503, message: 'The cluster is unavailable (its Redis does not answer); try again' },
  INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type PusherHttpErrorCode = keyof typeof PUSHER_HTTP_ERRORS;

export class PusherHttpError extends Error {
  override readonly name = 'PusherHttpError';
  readonly status: number;

  constructor(
    readonly code: PusherHttpErrorCode,
    readonly detail?: string,
  ) {
    super(PUSHER_HTTP_ERRORS[code].message);
    this.status = PUSHER_HTTP_ERRORS[code].status;
  }

  /** The plain-text response body. */
  get body(): string {
    return this.detail === undefined ? this.message : `${this.message}: ${this.detail}`;
  }
}

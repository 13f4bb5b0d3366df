/**
 * Every error the WebSocket side puts on the wire, in one table. Handlers throw one of the
 * classes below and never write a code.
 *
 * `pusher:error` codes follow the protocol's ranges (the close code decides what pusher-js
 * does): 4000–4099 the client must not reconnect, 4100–4199 reconnect after backing off,
 * 4200–4299 reconnect at once, 4300–4399 other errors. `closes: true` means the server sends
 * the `pusher:error` frame and then closes the connection with the same code; otherwise the
 * connection stays open and the offending message is dropped.
 */
export const WIRE_ERRORS = {
  UnknownApp: { code: 4001, closes: true, message: 'No app uses this key.' },
  AppDisabled: { code: 4003, closes: true, message: 'This app is disabled.' },
  OverQuota: { code: 4004, closes: true, message: 'This app already has as many connections as its quota allows.' },
  InvalidPath: { code: 4005, closes: true, message: 'Connect to /app/{key}?protocol=7.' },
  UnsupportedProtocol: { code: 4007, closes: true, message: 'Unsupported protocol version; this server speaks protocol 7.' },
  MissingProtocol: { code: 4008, closes: true, message: 'No protocol version given; add ?protocol=7 to the URL.' },
  Unauthorized: { code: 4009, closes: true, message: 'Connection is unauthorized.' },
  OriginNotAllowed: { code: 4009, closes: true, message: 'This origin may not connect to this app.' },
  Terminated: { code: 4009, closes: true, message: 'The app terminated the connections of this user.' },
  OverCapacity: { code: 4100, closes: true, message: 'This server is over capacity; try again shortly.' },
  SlowConsumer: { code: 4100, closes: true, message: 'The connection fell too far behind; reconnect shortly.' },
  ReconnectRequested: { code: 4200, closes: true, message: 'Please reconnect.' },
  PongNotReceived: { code: 4201, closes: true, message: 'Pong reply not received in time.' },
  NeverSubscribed: { code: 4202, closes: true, message: 'Closed for inactivity: no channel was subscribed.' },
  InternalError: { code: 4200, closes: true, message: 'The server failed to handle a message; please reconnect.' },
  MalformedMessage: { code: 4200, closes: false, message: 'Invalid message: send a JSON text frame {"event", "channel"?, "data"?}.' },
  BinaryMessage: { code: 4200, closes: false, message: 'Binary frames are not supported; send JSON text frames.' },
  UnknownEvent: { code: 4200, closes: false, message: 'Unknown event.' },
  MessageTooLarge: { code: 4300, closes: false, message: 'Message too large.' },
  InvalidChannelName: {
    code: 4300,
    closes: false,
    message: 'Invalid channel name: use at most 200 of A-Z a-z 0-9 _ - = @ , . ;',
  },
  ClientEventRejected: { code: 4300, closes: false, message: 'Client event rejected.' },
  ClientEventRateLimited: { code: 4301, closes: false, message: 'Client event rejected: more than the allowed client events per second.' },
  WatchlistTooLarge: { code: 4302, closes: false, message: 'Watchlist too large: at most 100 user ids.' },
} as const satisfies Record<string, { code: number; closes: boolean; message: string }>;

export type WireErrorKind = keyof typeof WIRE_ERRORS;

/** An error sent as `pusher:error {code, message}`; closes the connection when `closes`. */
export class WireError extends Error {
  readonly kind: WireErrorKind;
  readonly code: number;
  readonly closes: boolean;

  protected constructor(kind: WireErrorKind, detail?: string) {
    super(detail === undefined ? WIRE_ERRORS[kind].message : `${WIRE_ERRORS[kind].message} ${detail}`);
    this.name = kind;
    this.kind = kind;
    this.code = WIRE_ERRORS[kind].code;
    this.closes = WIRE_ERRORS[kind].closes;
  }
}

export class UnknownAppError extends WireError { constructor(d?: string) { super('UnknownApp', d); } }
export class AppDisabledError extends WireError { constructor(d?: string) { super('AppDisabled', d); } }
export class OverQuotaError extends WireError { constructor(d?: string) { super('OverQuota', d); } }
export class InvalidPathError extends WireError { constructor(d?: string) { super('InvalidPath', d); } }
export class UnsupportedProtocolError extends WireError { constructor(d?: string) { super('UnsupportedProtocol', d); } }
export class MissingProtocolError extends WireError { constructor(d?: string) { super('MissingProtocol', d); } }
export class UnauthorizedError extends WireError { constructor(d?: string) { super('Unauthorized', d); } }
export class OriginNotAllowedError extends WireError { constructor(d?: string) { super('OriginNotAllowed', d); } }
export class TerminatedError extends WireError { constructor(d?: string) { super('Terminated', d); } }
export class OverCapacityError extends WireError { constructor(d?: string) { super('OverCapacity', d); } }
export class SlowConsumerError extends WireError { constructor(d?: string) { super('SlowConsumer', d); } }
export class ReconnectRequestedError extends WireError { constructor(d?: string) { super('ReconnectRequested', d); } }
export class PongNotReceivedError extends WireError { constructor(d?: string) { super('PongNotReceived', d); } }
export class NeverSubscribedError extends WireError { constructor(d?: string) { super('NeverSubscribed', d); } }
export class InternalError extends WireError { constructor(d?: string) { super('InternalError', d); } }
export class MalformedMessageError extends WireError { constructor(d?: string) { super('MalformedMessage', d); } }
export class BinaryMessageError extends WireError { constructor(d?: string) { super('BinaryMessage', d); } }
export class UnknownEventError extends WireError { constructor(d?: string) { super('UnknownEvent', d); } }
export class MessageTooLargeError extends WireError { constructor(d?: string) { super('MessageTooLarge', d); } }
export class InvalidChannelNameError extends WireError { constructor(d?: string) { super('InvalidChannelName', d); } }
export class ClientEventRejectedError extends WireError { constructor(d?: string) { super('ClientEventRejected', d); } }
export class ClientEventRateLimitedError extends WireError { constructor(d?: string) { super('ClientEventRateLimited', d); } }
export class WatchlistTooLargeError extends WireError { constructor(d?: string) { super('WatchlistTooLarge', d); } }

/**
 * Refusals of one `pusher:subscribe`, sent as `pusher:subscription_error` with the channel
 * and `{type, error, status}`; the connection stays open (pusher-js and Echo report them
 * through the channel's error callback).
 */
export const SUBSCRIPTION_ERRORS = {
  InvalidSignature: { type: 'AuthError', status: 401, message: 'Invalid signature for this socket and channel.' },
  NotThisUser: { type: 'AuthError', status: 403, message: 'Only the signed-in user may subscribe to their own channel.' },
  InvalidChannelData: {
    type: 'AuthError',
    status: 400,
    message: 'channel_data must be JSON {user_id (<= 128 chars), user_info? (<= 1 KB)}.',
  },
  PresenceFull: { type: 'LimitReached', status: 403, message: 'This presence channel already has 100 members.' },
} as const satisfies Record<string, { type: string; status: number; message: string }>;

export type SubscriptionErrorKind = keyof typeof SUBSCRIPTION_ERRORS;

export class SubscriptionError extends Error {
  readonly kind: SubscriptionErrorKind;
  readonly type: string;
  readonly status: number;

  protected constructor(
    kind: SubscriptionErrorKind,
    readonly channel: string,
  ) {
    super(SUBSCRIPTION_ERRORS[kind].message);
    this.name = kind;
    this.kind = kind;
    this.type = SUBSCRIPTION_ERRORS[kind].type;
    this.status = SUBSCRIPTION_ERRORS[kind].status;
  }
}

export class InvalidSignatureError extends SubscriptionError { constructor(channel: string) { super('InvalidSignature', channel); } }
export class NotThisUserError extends SubscriptionError { constructor(channel: string) { super('NotThisUser', channel); } }
export class InvalidChannelDataError extends SubscriptionError { constructor(channel: string) { super('InvalidChannelData', channel); } }
export class PresenceFullError extends SubscriptionError { constructor(channel: string) { super('PresenceFull', channel); } }

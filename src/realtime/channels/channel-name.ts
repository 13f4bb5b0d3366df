/**
 * Channel names and what their prefix means. A name is 1–200 of `[A-Za-z0-9_\-=@,.;]`,
 * except `#server-to-user-{id}`, which is reserved for the connection signed in as that user.
 * `cache-`, `private-cache-`, `presence-cache-` and `private-encrypted-cache-` channels
 * replay the last server-published event to new subscribers.
 */
export type ChannelKind = 'public' | 'private' | 'encrypted' | 'presence' | 'user';

export interface ChannelName {
  name: string;
  kind: ChannelKind;
  cached: boolean;
  /** The user of a `#server-to-user-{id}` channel. */
  userId?: string;
}

export const MAX_CHANNEL_NAME_LENGTH = 200;
export const USER_CHANNEL_PREFIX = '#server-to-user-';

const ALLOWED = /^[A-Za-z0-9_\-=@,.;]+$/;
const USER_ID = /^[^\u0000-\u001f\u007f]{1,128}$/;

const PREFIXES: ReadonlyArray<readonly [string, ChannelKind, boolean]> = [
  ['private-encrypted-cache-', 'encrypted', true],
  ['private-encrypted-', 'encrypted', false],
  ['presence-cache-', 'presence', true],
  ['presence-', 'presence', false],
  ['private-cache-', 'private', true],
  ['private-', 'private', false],
  ['cache-', 'public', true],
];

/** The parsed name, or undefined when the name is not a valid channel name. */
export function parseChannelName(name: string): ChannelName | undefined {
  if (name.length === 0 || name.length > MAX_CHANNEL_NAME_LENGTH) return undefined;
  if (name.startsWith(USER_CHANNEL_PREFIX)) {
    const userId = name.slice(USER_CHANNEL_PREFIX.length);
    return USER_ID.test(userId) ? { name, kind: 'user', cached: false, userId } : undefined;
  }
  if (!ALLOWED.test(name)) return undefined;
  for (const [prefix, kind, cached] of PREFIXES) {
    if (name.startsWith(prefix)) return { name, kind, cached };
  }
  return { name, kind: 'public', cached: false };
}

/** A user id is whatever the app's user_data says (<= 128 chars), minus control characters. */
export const isValidUserId = (id: string): boolean => USER_ID.test(id);

export const userChannelName = (userId: string) => `${USER_CHANNEL_PREFIX}${userId}`;

import { userSigningString, verifyAuth } from '../auth/signatures.js';
import { userChannelName } from '../channels/channel-name.js';
import { dataOf, signinData } from './client-message.js';
import { frames } from './frames.js';
import type { EventHandler } from './handler-context.js';
import { UnauthorizedError, WatchlistTooLargeError } from './wire-errors.js';

export const MAX_WATCHLIST = 100;
const MAX_USER_ID_LENGTH = 128;

/**
 * pusher:signin: `auth` signs `<socket_id>::user::<user_data>`; user_data is JSON with a
 * string `id` and an optional `watchlist` of user ids. A bad signature or user_data closes
 * the connection with 4009; a watchlist over 100 is refused with 4302 (connection stays).
 */
export const signin: EventHandler = (message, session, state) => {
  const data = dataOf(signinData, message);
  if (!verifyAuth(state.app, data.auth, userSigningString(session.socketId, data.user_data))) {
    throw new UnauthorizedError('Invalid sign-in signature.');
  }
  const user = parseUserData(data.user_data);
  if (session.userId !== undefined && session.userId !== user.id) {
    const previous = userChannelName(session.userId);
    if (session.channels.delete(previous)) state.channels.unsubscribe(session, previous);
  }
  session.userId = user.id;
  session.engaged = true;
  session.send(frames.signinSuccess(data.user_data));
  state.users.signIn(session, user.id, user.watchlist);
};

function parseUserData(userData: string): { id: string; watchlist: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(userData);
  } catch {
    throw new UnauthorizedError('user_data is not JSON.');
  }
  const { id, watchlist = [] } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
    id?: unknown;
    watchlist?: unknown;
  };
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_USER_ID_LENGTH) {
    throw new UnauthorizedError('user_data needs a string "id" of 1 to 128 characters.');
  }
  if (!Array.isArray(watchlist) || !watchlist.every((w) => typeof w === 'string' || typeof w === 'number')) {
    throw new UnauthorizedError('"watchlist" in user_data must be an array of user ids.');
  }
  if (watchlist.length > MAX_WATCHLIST) throw new WatchlistTooLargeError();
  return { id, watchlist: [...new Set(watchlist.map(String))] };
}

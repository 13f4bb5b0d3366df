import { channelSigningString, verifyAuth } from '../auth/signatures.js';
import { InvalidSignatureError } from '../protocol/wire-errors.js';
import { Channel, type SubscribeRequest } from './channel.js';

/** Subscribers present `auth = <key>:<HMAC of socket_id:channel>` from the app's auth endpoint. */
export class PrivateChannel extends Channel {
  readonly kind: 'private' | 'encrypted' | 'presence' = 'private';

  override get acceptsClientEvents(): boolean {
    return true;
  }

  protected override authorize(req: SubscribeRequest): void {
    if (!verifyAuth(this.ctx.app, req.auth, channelSigningString(req.socketId, this.name))) {
      throw new InvalidSignatureError(this.name);
    }
  }
}

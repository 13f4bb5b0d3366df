import { PrivateChannel } from './private-channel.js';

/**
 * A private channel whose payloads are end-to-end encrypted by the publisher: the server
 * relays them opaquely. No client events: pusher-js refuses to send them on encrypted
 * channels and the server could not vouch for their content.
 */
export class EncryptedChannel extends PrivateChannel {
  override readonly kind = 'encrypted';

  override get acceptsClientEvents(): boolean {
    return false;
  }
}

import { Channel } from './channel.js';

/** Anyone may subscribe; no auth, no client events. */
export class PublicChannel extends Channel {
  readonly kind = 'public';
}

import type { Channel, ChannelContext } from './channel.js';
import type { ChannelName } from './channel-name.js';
import { EncryptedChannel } from './encrypted-channel.js';
import { PresenceChannel } from './presence-channel.js';
import { PrivateChannel } from './private-channel.js';
import { PublicChannel } from './public-channel.js';
import { UserChannel } from './user-channel.js';

/** The channel class for a parsed name: one class per kind. */
export function createChannel(name: ChannelName, ctx: ChannelContext): Channel {
  switch (name.kind) {
    case 'public':
      return new PublicChannel(name.name, ctx);
    case 'private':
      return new PrivateChannel(name.name, ctx);
    case 'encrypted':
      return new EncryptedChannel(name.name, ctx);
    case 'presence':
      return new PresenceChannel(name.name, ctx);
    case 'user':
      return new UserChannel(name.name, ctx, name.userId ?? '');
  }
}

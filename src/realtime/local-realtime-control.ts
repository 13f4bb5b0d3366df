import { parseChannelName } from './channels/channel-name.js';
import type { Channel } from './channels/channel.js';
import { PresenceChannel } from './channels/presence-channel.js';
import type { AppRegistry, ChannelInfo, Publication, RealtimeControl } from './contracts.js';
import type { Fanout } from './fanout/fanout.js';
import type { NodeState } from './protocol/node-state.js';

/**
 * RealtimeControl for one node. Publishing and terminating go through the fan-out (so with a
 * clustered fan-out they reach every node); the questions (channels, channel, users) are
 * answered from this node's state only — a clustered control answers them cluster-wide.
 * Unknown app ids are an error: the HTTP API authenticates the app before it gets here.
 */
export class LocalRealtimeControl implements RealtimeControl {
  constructor(
    readonly apps: AppRegistry,
    private readonly fanout: Fanout,
    private readonly state: NodeState,
  ) {}

  async publish(p: Publication): Promise<void> {
    this.appState(p.appId);
    await this.fanout.publish({ kind: 'event', publication: p, origin: 'server' });
  }

  async channels(appId: string, filterByPrefix = ''): Promise<Map<string, ChannelInfo>> {
    const out = new Map<string, ChannelInfo>();
    for (const channel of this.appState(appId).channels.all()) {
      if (channel.kind === 'user' || !channel.name.startsWith(filterByPrefix)) continue;
      out.set(channel.name, this.info(appId, channel));
    }
    return out;
  }

  async channel(appId: string, name: string): Promise<ChannelInfo> {
    const channel = this.appState(appId).channels.find(name);
    if (channel) return this.info(appId, channel);
    const empty: ChannelInfo = { occupied: false, subscriptionCount: 0 };
    if (parseChannelName(name)?.kind === 'presence') empty.userCount = 0;
    if (parseChannelName(name)?.cached) empty.cache = this.appState(appId).cache.recall(name);
    return empty;
  }

  async users(appId: string, channel: string): Promise<string[]> {
    const found = this.appState(appId).channels.find(channel);
    return found instanceof PresenceChannel ? found.userIds : [];
  }

  async terminateUserConnections(appId: string, userId: string): Promise<void> {
    this.appState(appId);
    await this.fanout.publish({ kind: 'terminate_user', appId, userId });
  }

  private info(appId: string, channel: Channel): ChannelInfo {
    const info: ChannelInfo = { occupied: channel.subscriptionCount > 0, subscriptionCount: channel.subscriptionCount };
    if (channel instanceof PresenceChannel) info.userCount = channel.userCount;
    if (parseChannelName(channel.name)?.cached) info.cache = this.appState(appId).cache.recall(channel.name);
    return info;
  }

  private appState(appId: string) {
    const state = this.state.byId(appId);
    if (!state) throw new Error(`Unknown Pusher app ${appId}`);
    return state;
  }
}

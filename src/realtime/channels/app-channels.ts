import type { AppClusterState, LocalChannels } from '../cluster/cluster-state.js';
import type { PusherApp, RealtimeOccurrence } from '../contracts.js';
import type { Channel, ChannelContext, Subscriber, SubscribeRequest } from './channel.js';
import type { ChannelName } from './channel-name.js';
import { createChannel } from './create-channel.js';

/**
 * The channels of one app on this node. A channel exists while it has a local subscriber
 * (or one waiting for the cluster state's answer). Every change of a channel's local
 * subscriber count is told to the cluster state once, which decides what it means
 * (occupied, vacated, subscription_count) for the cluster.
 */
export class AppChannels {
  private readonly channels = new Map<string, Channel>();
  /** The count each channel last told the cluster state. */
  private readonly told = new WeakMap<Channel, number>();

  private readonly ctx: ChannelContext;

  constructor(app: PusherApp, report: (o: RealtimeOccurrence) => void, clusterFor: (local: LocalChannels) => AppClusterState) {
    const cluster = clusterFor({ app, report, find: (name) => this.channels.get(name) });
    this.ctx = { app, report, cluster };
  }

  get cluster(): AppClusterState {
    return this.ctx.cluster;
  }

  find(name: string): Channel | undefined {
    return this.channels.get(name);
  }

  all(): IterableIterator<Channel> {
    return this.channels.values();
  }

  /**
   * Returns the subscription_succeeded frame, or a promise of it while the cluster state
   * answers (presence channels in a cluster). Refusals throw (or reject) SubscriptionError and
   * change nothing.
   */
  subscribe(sub: Subscriber, name: ChannelName, req: SubscribeRequest): Buffer | Promise<Buffer> {
    let channel = this.channels.get(name.name);
    if (!channel) {
      channel = createChannel(name, this.ctx);
      this.channels.set(name.name, channel);
    }
    const joined = channel;
    let succeeded: Buffer | Promise<Buffer>;
    try {
      succeeded = joined.subscribe(sub, req);
    } catch (error) {
      this.settle(joined);
      throw error;
    }
    if (!(succeeded instanceof Promise)) {
      this.settle(joined);
      return succeeded;
    }
    return succeeded.finally(() => this.settle(joined));
  }

  unsubscribe(sub: Subscriber, name: string): void {
    const channel = this.channels.get(name);
    if (!channel || !channel.unsubscribe(sub)) return;
    this.settle(channel);
  }

  /** Tells the cluster state about a changed count; forgets a channel nobody is in. */
  private settle(channel: Channel): void {
    if (this.channels.get(channel.name) !== channel) return;
    const before = this.told.get(channel) ?? 0;
    const after = channel.subscriptionCount;
    if (after === 0 && channel.pending === 0) this.channels.delete(channel.name);
    if (after === before) return;
    this.told.set(channel, after);
    this.ctx.cluster.subscriptionsChanged(channel.name, before, after);
  }
}

import { frames } from '../protocol/frames.js';
import type { Channel, ChannelContext, Subscriber, SubscribeRequest } from './channel.js';
import type { ChannelName } from './channel-name.js';
import { createChannel } from './create-channel.js';

/**
 * The occupied channels of one app on this node. A channel exists while it has a local
 * subscriber: it reports channel_occupied when the first one joins and channel_vacated when
 * the last one leaves. Subscription counts of public and private channels are reported once
 * per turn of the event loop however many joined or left (and sent to the channel as
 * pusher_internal:subscription_count when the app opted in).
 */
export class AppChannels {
  private readonly channels = new Map<string, Channel>();
  private readonly countChanged = new Set<string>();
  private flushScheduled = false;

  constructor(private readonly ctx: ChannelContext) {}

  find(name: string): Channel | undefined {
    return this.channels.get(name);
  }

  all(): IterableIterator<Channel> {
    return this.channels.values();
  }

  /** Returns the subscription_succeeded frame; throws SubscriptionError (nothing changes then). */
  subscribe(sub: Subscriber, name: ChannelName, req: SubscribeRequest): Buffer {
    const existing = this.channels.get(name.name);
    const channel = existing ?? createChannel(name, this.ctx);
    const before = channel.subscriptionCount;
    const succeeded = channel.subscribe(sub, req);
    if (!existing) {
      this.channels.set(name.name, channel);
      if (channel.kind !== 'user') this.ctx.report({ name: 'channel_occupied', channel: name.name });
    }
    if (channel.subscriptionCount !== before) this.countsChanged(channel);
    return succeeded;
  }

  unsubscribe(sub: Subscriber, name: string): void {
    const channel = this.channels.get(name);
    if (!channel || !channel.unsubscribe(sub)) return;
    if (channel.subscriptionCount > 0) {
      this.countsChanged(channel);
      return;
    }
    this.channels.delete(name);
    this.countChanged.delete(name);
    if (channel.kind !== 'user') this.ctx.report({ name: 'channel_vacated', channel: name });
  }

  private countsChanged(channel: Channel): void {
    if (channel.kind === 'presence' || channel.kind === 'user') return;
    this.countChanged.add(channel.name);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushCounts());
  }

  private flushCounts(): void {
    this.flushScheduled = false;
    const names = [...this.countChanged];
    this.countChanged.clear();
    for (const name of names) {
      const channel = this.channels.get(name);
      if (!channel) continue;
      const count = channel.subscriptionCount;
      if (this.ctx.app.subscriptionCountEnabled) channel.broadcast(frames.subscriptionCount(name, count));
      this.ctx.report({ name: 'subscription_count', channel: name, subscription_count: count });
    }
  }
}

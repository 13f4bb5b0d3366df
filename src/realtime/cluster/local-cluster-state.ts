import { parseChannelName } from '../channels/channel-name.js';
import { frames } from '../protocol/frames.js';
import type { AppClusterState, ClusterState, LocalChannels } from './cluster-state.js';

/**
 * A cluster of one: this node's channels are all there are. Occupied and vacated are
 * reported as this node's count leaves and returns to zero, subscription counts once per turn
 * of the event loop however many joined or left (and sent to the channel as
 * pusher_internal:subscription_count when the app opted in), presence members are announced
 * to this node's subscribers. Nothing is asynchronous.
 */
export class LocalClusterState implements ClusterState {
  forApp(local: LocalChannels): AppClusterState {
    return new LocalAppState(local);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

class LocalAppState implements AppClusterState {
  private readonly countChanged = new Set<string>();
  private flushScheduled = false;

  constructor(private readonly local: LocalChannels) {}

  subscriptionsChanged(channel: string, before: number, after: number): void {
    const kind = parseChannelName(channel)?.kind;
    if (kind === 'user') return;
    if (before === 0 && after > 0) this.local.report({ name: 'channel_occupied', channel });
    if (after === 0) {
      this.countChanged.delete(channel);
      this.local.report({ name: 'channel_vacated', channel });
      return;
    }
    if (kind === 'presence') return;
    this.countChanged.add(channel);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushCounts());
  }

  memberJoined(channel: string, userId: string, info: unknown, socketId: string): undefined {
    this.local.find(channel)?.broadcast(frames.memberAdded(channel, userId, info), socketId);
    this.local.report({ name: 'member_added', channel, user_id: userId });
    return undefined;
  }

  memberLeft(channel: string, userId: string): void {
    this.local.find(channel)?.broadcast(frames.memberRemoved(channel, userId));
    this.local.report({ name: 'member_removed', channel, user_id: userId });
  }

  members(): undefined {
    return undefined;
  }

  recall(): undefined {
    return undefined;
  }

  private flushCounts(): void {
    this.flushScheduled = false;
    const names = [...this.countChanged];
    this.countChanged.clear();
    for (const name of names) {
      const channel = this.local.find(name);
      if (!channel || channel.subscriptionCount === 0) continue;
      const count = channel.subscriptionCount;
      if (this.local.app.subscriptionCountEnabled) channel.broadcast(frames.subscriptionCount(name, count));
      this.local.report({ name: 'subscription_count', channel: name, subscription_count: count });
    }
  }
}

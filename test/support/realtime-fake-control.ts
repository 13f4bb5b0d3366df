import type { AppRegistry, ChannelInfo, Publication, PusherApp, RealtimeControl } from '../../src/realtime/contracts.js';

/**
 * An in-memory RealtimeControl for testing what sits in front of the real-time server (the
 * HTTP API): it records what is published and answers channel questions from state the
 * test sets. A test double of our own port, not of a third-party service.
 */
export class FakeRealtimeControl implements RealtimeControl {
  readonly apps: InMemoryAppRegistry;
  readonly publications: Publication[] = [];
  readonly terminated: Array<{ appId: string; userId: string }> = [];
  private readonly state = new Map<string, Map<string, FakeChannel>>();

  constructor(apps: readonly PusherApp[]) {
    this.apps = new InMemoryAppRegistry(apps);
  }

  /** Sets a channel's subscribers: `users` (presence) are distinct user ids. */
  occupy(appId: string, channel: string, s: { subscriptions: number; users?: string[]; cache?: { event: string; data: string } }): void {
    this.channelsOf(appId).set(channel, { subscriptions: s.subscriptions, users: s.users ?? [], cache: s.cache });
  }

  async publish(p: Publication): Promise<void> {
    this.publications.push({ ...p, channels: [...p.channels] });
  }

  async channels(appId: string, filterByPrefix?: string): Promise<Map<string, ChannelInfo>> {
    const out = new Map<string, ChannelInfo>();
    for (const [name, c] of this.channelsOf(appId)) {
      if (c.subscriptions > 0 && name.startsWith(filterByPrefix ?? '')) out.set(name, infoOf(name, c));
    }
    return out;
  }

  async channel(appId: string, name: string): Promise<ChannelInfo> {
    const c = this.channelsOf(appId).get(name);
    return c ? infoOf(name, c) : { occupied: false, subscriptionCount: 0, ...(name.startsWith('presence-') ? { userCount: 0 } : {}) };
  }

  async users(appId: string, channel: string): Promise<string[]> {
    return [...(this.channelsOf(appId).get(channel)?.users ?? [])];
  }

  async terminateUserConnections(appId: string, userId: string): Promise<void> {
    this.terminated.push({ appId, userId });
  }

  private channelsOf(appId: string): Map<string, FakeChannel> {
    let m = this.state.get(appId);
    if (!m) this.state.set(appId, (m = new Map()));
    return m;
  }
}

interface FakeChannel {
  subscriptions: number;
  users: string[];
  cache: { event: string; data: string } | undefined;
}

function infoOf(name: string, c: FakeChannel): ChannelInfo {
  return {
    occupied: c.subscriptions > 0,
    subscriptionCount: c.subscriptions,
    ...(name.startsWith('presence-') ? { userCount: c.users.length } : {}),
    cache: c.cache,
  };
}

export class InMemoryAppRegistry implements AppRegistry {
  private readonly list: PusherApp[];

  constructor(apps: readonly PusherApp[]) {
    this.list = [...apps];
  }

  byId(id: string): PusherApp | undefined {
    return this.list.find((a) => a.id === id);
  }

  byKey(key: string): PusherApp | undefined {
    return this.list.find((a) => a.key === key);
  }

  all(): readonly PusherApp[] {
    return this.list;
  }

  /** Replaces an app's settings (tests change webhook URLs, disable apps, …). */
  update(id: string, change: Partial<PusherApp>): void {
    const i = this.list.findIndex((a) => a.id === id);
    const app = this.list[i];
    if (!app) throw new Error(`no app ${id}`);
    this.list[i] = { ...app, ...change };
  }
}

/** A PusherApp with test defaults. */
export function testPusherApp(overrides: Partial<PusherApp> & Pick<PusherApp, 'id' | 'key' | 'secret'>): PusherApp {
  return {
    enabled: true,
    clientEventsEnabled: true,
    maxConnections: 0,
    maxMessageBytes: 10 * 1024,
    allowedOrigins: ['*'],
    activityTimeoutSeconds: 30,
    webhook: null,
    subscriptionCountEnabled: false,
    ...overrides,
  };
}

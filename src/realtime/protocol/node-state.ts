import { AppChannels } from '../channels/app-channels.js';
import { EventCache } from '../channels/event-cache.js';
import { PresenceChannel } from '../channels/presence-channel.js';
import type { ClusterState, Members, NodeView } from '../cluster/cluster-state.js';
import type { AppRegistry, OccurrenceSink, PusherApp, RealtimeOccurrence } from '../contracts.js';
import { SignedInUsers } from '../users/signed-in-users.js';
import type { Session } from './session.js';

/** Everything one app has on this node: its connections, channels, signed-in users and cache. */
export class AppState {
  readonly sessions = new Map<string, Session>();
  readonly channels: AppChannels;
  readonly users = new SignedInUsers();
  readonly cache: EventCache;
  readonly report: (o: RealtimeOccurrence) => void;

  constructor(
    readonly app: PusherApp,
    occurrences: OccurrenceSink,
    cacheTtlMs: number,
    now: () => number,
    cluster: ClusterState,
  ) {
    this.report = (o) => occurrences.occurred(app.id, o);
    this.channels = new AppChannels(app, this.report, (local) => cluster.forApp(local));
    this.cache = new EventCache(cacheTtlMs, now);
  }
}

/** The per-app state of this node, created on first use. */
export class NodeState implements NodeView {
  private readonly apps = new Map<string, AppState>();
  private sessionCount = 0;

  constructor(
    private readonly registry: AppRegistry,
    private readonly occurrences: OccurrenceSink,
    private readonly cacheTtlMs: number,
    private readonly now: () => number,
    private readonly cluster: ClusterState,
  ) {}

  of(app: PusherApp): AppState {
    let state = this.apps.get(app.id);
    if (!state) {
      state = new AppState(app, this.occurrences, this.cacheTtlMs, this.now, this.cluster);
      this.apps.set(app.id, state);
    }
    return state;
  }

  /** The state of a registered app (created if need be); undefined for unknown ids. */
  byId(appId: string): AppState | undefined {
    const existing = this.apps.get(appId);
    if (existing) return existing;
    const app = this.registry.byId(appId);
    return app ? this.of(app) : undefined;
  }

  get connectionCount(): number {
    return this.sessionCount;
  }

  add(session: Session): void {
    this.of(session.conn.app).sessions.set(session.socketId, session);
    this.sessionCount += 1;
  }

  /** False when the session was already gone. */
  remove(session: Session): boolean {
    const removed = this.apps.get(session.conn.app.id)?.sessions.delete(session.socketId) ?? false;
    if (removed) this.sessionCount -= 1;
    return removed;
  }

  find(appId: string, socketId: string): Session | undefined {
    return this.apps.get(appId)?.sessions.get(socketId);
  }

  *sessions(): IterableIterator<Session> {
    for (const state of this.apps.values()) yield* state.sessions.values();
  }

  *appsWithState(): IterableIterator<{ app: PusherApp; channels: Iterable<{ name: string; kind: string; subscriptionCount: number }> }> {
    for (const state of this.apps.values()) yield { app: state.app, channels: [...state.channels.all()] };
  }

  localMembers(appId: string, channel: string): Members {
    const found = this.apps.get(appId)?.channels.find(channel);
    return found instanceof PresenceChannel ? found.localMembers : new Map();
  }

  channelsOf(appId: string) {
    const state = this.byId(appId);
    return state && { app: state.app, report: state.report, find: (name: string) => state.channels.find(name) };
  }
}

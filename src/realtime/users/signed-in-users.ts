import type { Subscriber } from '../channels/channel.js';
import { frames } from '../protocol/frames.js';

/**
 * The connections of one app that signed in (`pusher:signin`), by user, and who watches
 * whom. A user is online while at least one of their connections is signed in: watchers get
 * `online` on the first connection and `offline` when the last one goes. A connection that
 * signs in with a watchlist first learns which of those users are online already.
 */
export class SignedInUsers {
  private readonly byUser = new Map<string, Map<string, Subscriber>>();
  private readonly watchers = new Map<string, Map<string, Subscriber>>();
  private readonly bySocket = new Map<string, { userId: string; watchlist: readonly string[] }>();

  signIn(conn: Subscriber, userId: string, watchlist: readonly string[]): void {
    this.signOut(conn);
    this.bySocket.set(conn.socketId, { userId, watchlist });
    let conns = this.byUser.get(userId);
    if (!conns) {
      conns = new Map();
      this.byUser.set(userId, conns);
      this.notifyWatchers(userId, 'online');
    }
    conns.set(conn.socketId, conn);
    for (const watched of watchlist) {
      let w = this.watchers.get(watched);
      if (!w) this.watchers.set(watched, (w = new Map()));
      w.set(conn.socketId, conn);
    }
    const online = watchlist.filter((id) => this.byUser.has(id));
    if (online.length > 0) conn.send(frames.watchlistEvents([{ name: 'online', user_ids: online }]));
  }

  signOut(conn: Subscriber): void {
    const entry = this.bySocket.get(conn.socketId);
    if (!entry) return;
    this.bySocket.delete(conn.socketId);
    for (const watched of entry.watchlist) {
      const w = this.watchers.get(watched);
      w?.delete(conn.socketId);
      if (w?.size === 0) this.watchers.delete(watched);
    }
    const conns = this.byUser.get(entry.userId);
    conns?.delete(conn.socketId);
    if (conns?.size === 0) {
      this.byUser.delete(entry.userId);
      this.notifyWatchers(entry.userId, 'offline');
    }
  }

  userOf(socketId: string): string | undefined {
    return this.bySocket.get(socketId)?.userId;
  }

  connectionsOf(userId: string): Subscriber[] {
    return [...(this.byUser.get(userId)?.values() ?? [])];
  }

  private notifyWatchers(userId: string, name: 'online' | 'offline'): void {
    const watching = this.watchers.get(userId);
    if (!watching) return;
    const bytes = frames.watchlistEvents([{ name, user_ids: [userId] }]);
    for (const conn of watching.values()) conn.send(bytes);
  }
}

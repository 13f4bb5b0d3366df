import { channelSigningString, verifyAuth } from '../auth/signatures.js';
import type { Members } from '../cluster/cluster-state.js';
import { frames, type PresenceSnapshot } from '../protocol/frames.js';
import { InvalidChannelDataError, InvalidSignatureError, PresenceFullError } from '../protocol/wire-errors.js';
import type { Subscriber, SubscribeRequest } from './channel.js';
import { PrivateChannel } from './private-channel.js';

export const PRESENCE_LIMITS = { maxMembers: 100, maxUserInfoBytes: 1024, maxUserIdLength: 128 } as const;

interface Member {
  info: unknown;
  sockets: Set<string>;
  /** The cluster join of this user's first connection here, while it is under way. */
  joining: Promise<Members | undefined> | undefined;
}

/** A subscription given up before the cluster answered: nothing to send. */
export class SubscriptionAbandoned extends Error {}

/**
 * A private channel whose subscribers are users. The signature covers the exact
 * channel_data string `{user_id, user_info?}`. Members are distinct users: member_added goes
 * to the others only on a user's first connection, member_removed only when their last one
 * leaves. Numeric user ids become strings.
 *
 * This class keeps this node's members; "first" and "last" anywhere, and the members held
 * by other nodes, are the cluster state's (ctx.cluster). A connection joins at once and
 * becomes a subscriber (gets broadcasts) when the cluster has answered.
 */
export class PresenceChannel extends PrivateChannel {
  override readonly kind = 'presence';
  private readonly members = new Map<string, Member>();
  private readonly userBySocket = new Map<string, string>();
  private waiting = 0;

  override get pending(): number {
    return this.waiting;
  }

  override subscribe(sub: Subscriber, req: SubscribeRequest): Buffer | Promise<Buffer> {
    const channelData = req.channelData ?? '';
    if (!verifyAuth(this.ctx.app, req.auth, channelSigningString(req.socketId, this.name, channelData))) {
      throw new InvalidSignatureError(this.name);
    }
    const { userId, info } = this.parseChannelData(channelData);
    const current = this.userBySocket.get(sub.socketId);
    if (current !== undefined) return this.admit(sub, current, this.members.get(current)?.joining ?? this.ctx.cluster.members(this.name));

    let member = this.members.get(userId);
    let elsewhere: Members | undefined | Promise<Members | undefined>;
    if (member) {
      elsewhere = member.joining ?? this.ctx.cluster.members(this.name);
    } else {
      if (this.members.size >= PRESENCE_LIMITS.maxMembers) throw new PresenceFullError(this.name);
      const joining: Member = { info, sockets: new Set(), joining: undefined };
      member = joining;
      this.members.set(userId, member);
      elsewhere = this.ctx.cluster.memberJoined(this.name, userId, info, sub.socketId);
      if (elsewhere instanceof Promise) {
        joining.joining = elsewhere;
        const done = () => {
          if (joining.joining === elsewhere) joining.joining = undefined;
        };
        elsewhere.then(done, done);
      }
    }
    member.sockets.add(sub.socketId);
    this.userBySocket.set(sub.socketId, userId);
    return this.admit(sub, userId, elsewhere);
  }

  override unsubscribe(sub: Subscriber): boolean {
    const userId = this.userBySocket.get(sub.socketId);
    if (userId === undefined) return false;
    super.unsubscribe(sub);
    this.forget(sub.socketId, userId, true);
    return true;
  }

  override userIdOf(socketId: string): string | undefined {
    return this.userBySocket.get(socketId);
  }

  /** This node's members. */
  get userIds(): string[] {
    return [...this.members.keys()];
  }

  get userCount(): number {
    return this.members.size;
  }

  /** This node's members with their user_info. */
  get localMembers(): Members {
    return new Map([...this.members].map(([id, m]) => [id, m.info]));
  }

  /** Makes `sub` a subscriber once the cluster has answered (at once when it answered already). */
  private admit(sub: Subscriber, userId: string, elsewhere: Members | undefined | Promise<Members | undefined>): Buffer | Promise<Buffer> {
    if (!(elsewhere instanceof Promise)) {
      this.subscribers.set(sub.socketId, sub);
      return frames.subscriptionSucceeded(this.name, this.snapshot(elsewhere));
    }
    this.waiting += 1;
    return elsewhere.then(
      (members) => {
        this.waiting -= 1;
        if (this.userBySocket.get(sub.socketId) !== userId) throw new SubscriptionAbandoned();
        this.subscribers.set(sub.socketId, sub);
        return frames.subscriptionSucceeded(this.name, this.snapshot(members));
      },
      (error: unknown) => {
        this.waiting -= 1;
        // The cluster refused the join: this connection never became a member anywhere.
        if (this.userBySocket.get(sub.socketId) === userId) this.forget(sub.socketId, userId, false);
        throw error;
      },
    );
  }

  private forget(socketId: string, userId: string, announce: boolean): void {
    this.userBySocket.delete(socketId);
    const member = this.members.get(userId);
    if (!member) return;
    member.sockets.delete(socketId);
    if (member.sockets.size > 0) return;
    this.members.delete(userId);
    if (announce) this.ctx.cluster.memberLeft(this.name, userId);
  }

  /** Members elsewhere and here, distinct users; this node's order when alone. */
  private snapshot(elsewhere: Members | undefined): PresenceSnapshot {
    const hash: Record<string, unknown> = {};
    const ids: string[] = [];
    const add = (id: string, info: unknown) => {
      if (Object.hasOwn(hash, id)) return;
      hash[id] = info;
      ids.push(id);
    };
    for (const [id, info] of elsewhere ?? []) add(id, info);
    for (const [id, m] of this.members) add(id, m.info);
    return { ids, hash, count: ids.length };
  }

  private parseChannelData(channelData: string): { userId: string; info: unknown } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(channelData);
    } catch {
      throw new InvalidChannelDataError(this.name);
    }
    if (typeof parsed !== 'object' || parsed === null) throw new InvalidChannelDataError(this.name);
    const { user_id: rawId, user_info: info = {} } = parsed as { user_id?: unknown; user_info?: unknown };
    const userId = typeof rawId === 'number' && Number.isFinite(rawId) ? String(rawId) : rawId;
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > PRESENCE_LIMITS.maxUserIdLength) {
      throw new InvalidChannelDataError(this.name);
    }
    if (Buffer.byteLength(JSON.stringify(info), 'utf8') > PRESENCE_LIMITS.maxUserInfoBytes) {
      throw new InvalidChannelDataError(this.name);
    }
    return { userId, info };
  }
}

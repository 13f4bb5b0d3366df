import { channelSigningString, verifyAuth } from '../auth/signatures.js';
import { frames, type PresenceSnapshot } from '../protocol/frames.js';
import { InvalidChannelDataError, InvalidSignatureError, PresenceFullError } from '../protocol/wire-errors.js';
import type { Subscriber, SubscribeRequest } from './channel.js';
import { PrivateChannel } from './private-channel.js';

export const PRESENCE_LIMITS = { maxMembers: 100, maxUserInfoBytes: 1024, maxUserIdLength: 128 } as const;

interface Member {
  info: unknown;
  sockets: Set<string>;
}

/**
 * A private channel whose subscribers are users. The signature covers the exact
 * channel_data string `{user_id, user_info?}`. Members are distinct users: member_added goes
 * to the others only on a user's first connection, member_removed only when their last one
 * leaves. Numeric user ids become strings.
 */
export class PresenceChannel extends PrivateChannel {
  override readonly kind = 'presence';
  private readonly members = new Map<string, Member>();
  private readonly userBySocket = new Map<string, string>();

  override subscribe(sub: Subscriber, req: SubscribeRequest): Buffer {
    const channelData = req.channelData ?? '';
    if (!verifyAuth(this.ctx.app, req.auth, channelSigningString(req.socketId, this.name, channelData))) {
      throw new InvalidSignatureError(this.name);
    }
    const { userId, info } = this.parseChannelData(channelData);
    if (this.userBySocket.has(sub.socketId)) return frames.subscriptionSucceeded(this.name, this.snapshot());

    let member = this.members.get(userId);
    if (!member) {
      if (this.members.size >= PRESENCE_LIMITS.maxMembers) throw new PresenceFullError(this.name);
      member = { info, sockets: new Set() };
      this.members.set(userId, member);
      this.broadcast(frames.memberAdded(this.name, userId, info));
      this.ctx.report({ name: 'member_added', channel: this.name, user_id: userId });
    }
    member.sockets.add(sub.socketId);
    this.userBySocket.set(sub.socketId, userId);
    this.subscribers.set(sub.socketId, sub);
    return frames.subscriptionSucceeded(this.name, this.snapshot());
  }

  override unsubscribe(sub: Subscriber): boolean {
    if (!super.unsubscribe(sub)) return false;
    const userId = this.userBySocket.get(sub.socketId);
    this.userBySocket.delete(sub.socketId);
    const member = userId === undefined ? undefined : this.members.get(userId);
    if (userId === undefined || !member) return true;
    member.sockets.delete(sub.socketId);
    if (member.sockets.size === 0) {
      this.members.delete(userId);
      this.broadcast(frames.memberRemoved(this.name, userId));
      this.ctx.report({ name: 'member_removed', channel: this.name, user_id: userId });
    }
    return true;
  }

  override userIdOf(socketId: string): string | undefined {
    return this.userBySocket.get(socketId);
  }

  get userIds(): string[] {
    return [...this.members.keys()];
  }

  get userCount(): number {
    return this.members.size;
  }

  private snapshot(): PresenceSnapshot {
    const hash: Record<string, unknown> = {};
    for (const [id, m] of this.members) hash[id] = m.info;
    return { ids: [...this.members.keys()], hash, count: this.members.size };
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

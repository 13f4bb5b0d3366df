import type { RealtimeOccurrence } from '../contracts.js';

/**
 * Holds back `channel_vacated` and `member_removed` for a while, because clients come back:
 * a page reload vacates a channel and occupies it again a moment later. If the matching
 * `channel_occupied` / `member_added` (same app, channel and user) arrives while one is held,
 * both are dropped: nothing changed as far as the webhook receiver is concerned. Every
 * other occurrence passes straight through.
 *
 * At most `maxHeld` occurrences wait at once; past that they pass at once rather than
 * growing memory without bound.
 */
export interface HoldBackOptions {
  delayMs: number;
  maxHeld: number;
  /** Receives what passes, in the order it passes. */
  pass(appId: string, o: RealtimeOccurrence): void;
}

interface Held {
  appId: string;
  occurrence: RealtimeOccurrence;
  timer: NodeJS.Timeout;
}

export class HoldBack {
  private readonly held = new Map<string, Held>();

  constructor(private readonly o: HoldBackOptions) {}

  get size(): number {
    return this.held.size;
  }

  offer(appId: string, occurrence: RealtimeOccurrence): void {
    switch (occurrence.name) {
      case 'channel_vacated':
      case 'member_removed':
        return this.hold(appId, occurrence);
      case 'channel_occupied':
      case 'member_added': {
        const key = keyOf(appId, occurrence);
        const waiting = this.held.get(key);
        if (!waiting) return this.o.pass(appId, occurrence);
        clearTimeout(waiting.timer);
        this.held.delete(key);
        return;
      }
      default:
        return this.o.pass(appId, occurrence);
    }
  }

  /** Lets everything held pass now (oldest first), e.g. when shutting down. */
  releaseAll(): void {
    const all = [...this.held.values()];
    this.held.clear();
    for (const h of all) {
      clearTimeout(h.timer);
      this.o.pass(h.appId, h.occurrence);
    }
  }

  private hold(appId: string, occurrence: RealtimeOccurrence): void {
    const key = keyOf(appId, occurrence);
    // Already waiting to leave: the duplicate says nothing new.
    if (this.held.has(key)) return;
    if (this.held.size >= this.o.maxHeld) return this.o.pass(appId, occurrence);
    const timer = setTimeout(() => {
      this.held.delete(key);
      this.o.pass(appId, occurrence);
    }, this.o.delayMs);
    this.held.set(key, { appId, occurrence, timer });
  }
}

/** The occurrence a comeback cancels: channel_vacated by channel, member_removed by channel and user. */
function keyOf(appId: string, o: RealtimeOccurrence): string {
  const user = o.name === 'member_added' || o.name === 'member_removed' ? o.user_id : null;
  return JSON.stringify([appId, o.channel, user]);
}

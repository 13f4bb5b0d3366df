/**
 * The last server-published event of each cache channel, replayed to new subscribers.
 * Entries expire `ttlMs` after they were written (Pusher keeps them 30 minutes); at most
 * `maxEntries` are kept, the least recently written going first. Client events never
 * enter the cache.
 */
export interface CachedEvent {
  event: string;
  data: string;
}

export class EventCache {
  private readonly entries = new Map<string, CachedEvent & { at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxEntries = 10_000,
  ) {}

  remember(channel: string, event: string, data: string): void {
    this.entries.delete(channel);
    this.entries.set(channel, { event, data, at: this.now() });
    for (const [name, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.now() - entry.at <= this.ttlMs) break;
      this.entries.delete(name);
    }
  }

  recall(channel: string): CachedEvent | undefined {
    const entry = this.entries.get(channel);
    if (!entry) return undefined;
    if (this.now() - entry.at > this.ttlMs) {
      this.entries.delete(channel);
      return undefined;
    }
    return { event: entry.event, data: entry.data };
  }
}

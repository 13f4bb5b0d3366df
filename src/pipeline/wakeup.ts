/**
 * A wake-up signal for pollers. `notify()` wakes every current waiter and makes the next
 * `wait()` of anyone who has not waited since return at once, so a signal that arrives
 * while a runner is busy is not lost. Polling stays the source of truth; this only cuts
 * the delay.
 */
export class Wakeup {
  private generation = 0;
  private waiters = new Set<() => void>();

  notify(): void {
    this.generation++;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** A token to pass to `wait`: notifications after it count. */
  mark(): number {
    return this.generation;
  }

  wait(ms: number, since: number = this.generation): Promise<void> {
    if (this.generation !== since) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.waiters.add(done);
    });
  }
}

import type { Fanout, FanoutHandler, FanoutMessage } from './fanout.js';

/**
 * In-process medium: the "nodes" sharing one LocalBus are the LocalFanouts built on it (by
 * default each LocalFanout has a bus of its own, i.e. a single node). Delivery is
 * synchronous inside `publish`, so order is the order of the calls.
 */
export class LocalBus {
  private readonly handlers = new Set<FanoutHandler>();

  add(handler: FanoutHandler): () => void {
    const entry: FanoutHandler = (m) => handler(m);
    this.handlers.add(entry);
    return () => this.handlers.delete(entry);
  }

  deliver(message: FanoutMessage, onError: (e: unknown) => void): void {
    for (const handler of [...this.handlers]) {
      try {
        handler(message);
      } catch (e) {
        onError(e);
      }
    }
  }
}

export class LocalFanout implements Fanout {
  private readonly removers = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly bus: LocalBus = new LocalBus(),
    private readonly onHandlerError: (e: unknown) => void = () => {},
  ) {}

  publish(message: FanoutMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('LocalFanout is closed'));
    this.bus.deliver(message, this.onHandlerError);
    return Promise.resolve();
  }

  onMessage(handler: FanoutHandler): () => void {
    const remove = this.bus.add(handler);
    const remover = () => {
      remove();
      this.removers.delete(remover);
    };
    this.removers.add(remover);
    return remover;
  }

  close(): Promise<void> {
    this.closed = true;
    for (const remove of [...this.removers]) remove();
    return Promise.resolve();
  }
}

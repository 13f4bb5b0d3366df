/** What the pipeline reports as it works; the app turns it into metrics and logs. */
export interface PipelineObserver {
  handled(subscription: string, eventName: string, lagMs: number): void;
  failed(subscription: string, eventName: string, error: unknown, attempt: number): void;
  parked(subscription: string, eventName: string): void;
  error(subscription: string, error: unknown): void;
  leaseAcquired(subscription: string): void;
  leaseLost(subscription: string): void;
}

export const silentObserver: PipelineObserver = {
  handled() {},
  failed() {},
  parked() {},
  error() {},
  leaseAcquired() {},
  leaseLost() {},
};

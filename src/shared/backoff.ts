/** How long to wait between attempts: the first delay, doubling per attempt up to a bound. */
export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Exponential backoff with jitter: a random delay in [base, min(max, base·2^(attempt-1))], so
 * retries of many failed items spread out instead of arriving together.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(policy.baseDelayMs + random() * Math.max(0, ceiling - policy.baseDelayMs));
}

/**
 * Publishes on a schedule inside the server process (as StoreFlow's in-process broadcaster
 * would): each stream at its own steady rate, one channel per message, round-robin over the
 * stream's channels. Messages due in the same timer turn go out together; how late they went
 * out says whether the server kept up.
 */

/** `template` with `{i}` replaced by 0..count-1, e.g. customer.{i}.order. */
export interface PublishStream {
  template: string;
  count: number;
  rate: number;
}

export interface PublishPlan {
  seconds: number;
  /** Length of each message's data string, which starts {"t":<epoch ms>,… for latency. */
  bytes: number;
  event: string;
  streams: PublishStream[];
}

export interface PublishReport {
  published: number[];
  /** Due but not sent because the window had ended (the server could not keep up). */
  skipped: number;
  seconds: number;
  /** Send time minus due time, ms. */
  lateMs: { mean: number; max: number };
}

export type Publish = (channel: string, event: string, data: string) => void;

const PAD = 'x'.repeat(64 * 1024);

export function messageData(bytes: number, seq: number): string {
  const t = (performance.timeOrigin + performance.now()).toFixed(3);
  const head = `{"t":${t},"seq":${seq},"order":"ord_${seq.toString(36)}","status":"ready_for_pickup","pad":"`;
  return `${head}${PAD.slice(0, Math.max(0, bytes - head.length - 2))}"}`;
}

export function runPlan(plan: PublishPlan, publish: Publish): Promise<PublishReport> {
  const sent = plan.streams.map(() => 0);
  const channelNames = plan.streams.map((s) => Array.from({ length: s.count }, (_, i) => s.template.replace('{i}', String(i))));
  const durationMs = plan.seconds * 1000;
  // Message k of a stream is due at k / rate (the first at once); a run sends rate * seconds.
  const totals = plan.streams.map((s) => Math.floor(s.rate * plan.seconds));
  const start = performance.now();
  let seq = 0;
  let lateSum = 0;
  let lateMax = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const elapsed = Math.min(now - start, durationMs);
      let nextDue = Infinity;
      plan.streams.forEach((stream, s) => {
        const due = Math.min(totals[s] as number, Math.floor((stream.rate * elapsed) / 1000) + 1);
        const names = channelNames[s] as string[];
        let k = sent[s] as number;
        for (; k < due; k++) {
          const at = performance.now();
          if (at - start >= durationMs) break; // a fixed time: what is not out by then is skipped
          const late = at - (start + (k * 1000) / stream.rate);
          lateSum += late;
          if (late > lateMax) lateMax = late;
          publish(names[k % names.length] as string, plan.event, messageData(plan.bytes, seq++));
        }
        sent[s] = k;
        if (k < (totals[s] as number)) nextDue = Math.min(nextDue, start + ((sent[s] as number) * 1000) / stream.rate);
      });
      if (performance.now() - start >= durationMs) {
        const total = sent.reduce((a, b) => a + b, 0);
        const skipped = totals.reduce((a, b) => a + b, 0) - total;
        resolve({ published: sent, skipped, seconds: (performance.now() - start) / 1000, lateMs: { mean: total ? lateSum / total : 0, max: lateMax } });
        return;
      }
      setTimeout(tick, Math.max(0, Math.min(nextDue, start + durationMs) - performance.now()));
    };
    tick();
  });
}

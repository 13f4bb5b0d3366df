import type { OccurrenceSink, PusherApp, RealtimeOccurrence, ServerLimits, WsTransportOptions } from '../../src/realtime/index.js';
import { RealtimeNode } from '../../src/realtime/index.js';
import { testApp } from './realtime-apps.js';

type OccurrenceNamed<N> = RealtimeOccurrence extends infer O ? (O extends { name: infer K } ? (N extends K ? O : never) : never) : never;

/** Remembers every occurrence the WebSocket side reports. */
export class RecordingSink implements OccurrenceSink {
  readonly seen: Array<{ appId: string } & RealtimeOccurrence> = [];

  occurred(appId: string, o: RealtimeOccurrence): void {
    this.seen.push({ appId, ...o });
  }

  named<N extends RealtimeOccurrence['name']>(name: N): Array<OccurrenceNamed<N>> {
    return this.seen.filter((o) => o.name === name) as unknown as Array<OccurrenceNamed<N>>;
  }
}

export interface RealtimeHarness {
  node: RealtimeNode;
  port: number;
  sink: RecordingSink;
  /** Server bugs reported through onError; tests expect none. */
  errors: unknown[];
  url(key: string, query?: string): string;
  stop(): Promise<void>;
}

/** A real node listening on 127.0.0.1, port 0. */
export async function startRealtime(
  options: { apps?: PusherApp[]; limits?: Partial<ServerLimits>; transport?: WsTransportOptions } = {},
): Promise<RealtimeHarness> {
  const sink = new RecordingSink();
  const errors: unknown[] = [];
  const node = new RealtimeNode({
    apps: options.apps ?? [testApp()],
    occurrences: sink,
    ...(options.limits && { limits: options.limits }),
    transport: { closeGraceMs: 2_000, ...options.transport },
    onError: (e) => errors.push(e),
  });
  node.start();
  const { port } = await node.listen(0, '127.0.0.1');
  return {
    node,
    port,
    sink,
    errors,
    url: (key, query = 'protocol=7&client=js&version=8.6.0&flash=false') => `ws://127.0.0.1:${port}/app/${key}?${query}`,
    stop: () => node.stop(2_000),
  };
}

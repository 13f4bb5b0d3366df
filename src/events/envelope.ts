/**
 * The envelope every event has in the log (seed 003 §2, DESIGN.md §5). `position` is the
 * global append order; `checkpoint` is the gap-safe reading position
 * (`<transaction id>.<position>`): readers resume strictly after a checkpoint.
 */
export interface EventMetadata {
  merchant_id: number | null;
  store_id: number | null;
  actor: { type: 'user' | 'customer' | 'system'; id: number | null; role?: string | undefined };
  correlation_id: string;
  causation_id: string | null;
  request_id: string | null;
  /**
   * The WebSocket connection that made the change (the caller's X-Socket-ID, Echo's
   * `toOthers`): broadcasts of the event skip it, since that screen already shows the
   * change. Absent when the caller sent none.
   */
  socket_id?: string | undefined;
}

export interface NewEvent<P = unknown> {
  name: string;
  version: number;
  stream: string;
  stream_version: number;
  payload: P;
  metadata: EventMetadata;
}

export interface StoredEvent<P = unknown> extends NewEvent<P> {
  id: string;
  timestamp: string;
  source: string;
  position: number;
  transaction_id: string;
  checkpoint: string;
}

export const orderStream = (orderId: number) => `order-${orderId}`;
export const productStream = (productId: number) => `product-${productId}`;

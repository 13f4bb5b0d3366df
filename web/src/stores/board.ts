import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import { allowedNext, isTerminal } from '../../../src/domain/orders/order-status.js';
import { ApiError, get, patch, post } from '../api/http.js';
import type { OrderCreatedData, OrderStatusUpdatedData, OrderView, ShippingStatusUpdatedData } from '../api/types.js';
import type { FeedEvent } from '../realtime/index.js';

export type OrderAction =
  | { kind: 'status'; to: OrderView['status'] }
  | { kind: 'ship'; trackingCode: string; trackingUrl: string }
  | { kind: 'cancel' | 'reject'; reason: string }
  | { kind: 'override'; to: OrderView['status']; reason: string };

export interface Notice {
  id: number;
  tone: 'info' | 'warning' | 'error';
  text: string;
  orderId?: number;
}

const CONFLICT = 'ORDER_VERSION_CONFLICT';

/**
 * One store's operations board: its active orders, kept current from the board query, the
 * live feed and the answers to our own commands. Every source carries the order version,
 * and a card only ever moves to a newer version, so the order in which they arrive does not
 * matter and nothing is applied twice.
 */
export const useBoard = defineStore('board', () => {
  const storeId = ref<number | null>(null);
  const cards = reactive(new Map<number, OrderView>());
  const notices = ref<Notice[]>([]);
  /** Per card: the conflict or error shown on it until the next action. */
  const cardNotice = reactive(new Map<number, Notice>());
  const busy = reactive(new Set<number>());
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** How many times each order's card was created or changed by an event (tests read it from the DOM). */
  const changes = reactive(new Map<number, number>());
  /** Every event the feed delivered since the board opened, newest first (each once). */
  const activity = ref<Array<{ position: string; text: string; at: string }>>([]);
  /** Where the board's feed has read the log up to. */
  const feedPosition = ref<string | null>(null);
  let nextNotice = 1;

  const list = computed(() => [...cards.values()].sort((a, b) => a.created_at.localeCompare(b.created_at)));

  function notify(tone: Notice['tone'], text: string, orderId?: number): Notice {
    const n: Notice = { id: nextNotice++, tone, text, ...(orderId !== undefined ? { orderId } : {}) };
    notices.value = [...notices.value.slice(-4), n];
    setTimeout(() => dismiss(n.id), tone === 'info' ? 6000 : 15000);
    return n;
  }

  /** A notice shown on one card (it has role=alert there), not as a toast. */
  function cardAlert(tone: Notice['tone'], text: string, orderId: number): Notice {
    return { id: nextNotice++, tone, text, orderId };
  }

  function dismiss(id: number): void {
    notices.value = notices.value.filter((n) => n.id !== id);
  }

  /** Puts a newer version of an order on the board (or takes it off when it left the workflow). */
  function upsert(order: OrderView): boolean {
    const current = cards.get(order.id);
    if (current && current.version >= order.version) return false;
    if (isTerminal(order.status)) cards.delete(order.id);
    else cards.set(order.id, order);
    changes.set(order.id, (changes.get(order.id) ?? 0) + 1);
    return true;
  }

  async function load(id: number): Promise<void> {
    if (storeId.value !== id) {
      activity.value = [];
      feedPosition.value = null;
      cards.clear();
      cardNotice.clear();
      changes.clear();
    }
    storeId.value = id;
    loading.value = true;
    try {
      const { orders } = await get<{ orders: OrderView[] }>(`/api/stores/${id}/orders`);
      for (const o of orders) upsert(o);
      error.value = null;
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    } finally {
      loading.value = false;
    }
  }

  async function fetchOrder(orderId: number): Promise<void> {
    if (storeId.value === null) return;
    try {
      const { order } = await get<{ order: OrderView }>(`/api/stores/${storeId.value}/orders/${orderId}`);
      upsert(order);
    } catch {
      /* the next event or poll brings it */
    }
  }

  /** An event from the live feed (each arrives once; versions order them per order). */
  function apply(event: FeedEvent): void {
    const p = event.payload as Record<string, unknown> & { order_id: number; store_id: number; version: number };
    if (p.store_id !== storeId.value) return;
    record(event);
    const card = cards.get(p.order_id);
    if (event.name === 'OrderCreated') {
      const created = p as unknown as OrderCreatedData;
      if (upsert(fromCreated(created))) notify('info', `New ${created.fulfilment_type} order from ${created.customer.name}`, created.order_id);
      return;
    }
    if (!card) {
      if (event.name === 'OrderStatusUpdated' && !isTerminal((p as unknown as OrderStatusUpdatedData).new_status)) void fetchOrder(p.order_id);
      return;
    }
    if (p.version <= card.version) return;
    if (event.name === 'OrderStatusUpdated') {
      const u = p as unknown as OrderStatusUpdatedData;
      upsert({ ...card, status: u.new_status, allowed_next: allowedNext(card.fulfilment_type, u.new_status), version: u.version, updated_at: u.timestamp });
      if (isTerminal(u.new_status)) notify('info', `Order ${short(card.public_id)} is ${label(u.new_status)}`);
    } else if (event.name === 'ShippingStatusUpdated') {
      const s = p as unknown as ShippingStatusUpdatedData;
      upsert({ ...card, shipping_status: s.new_shipping_status, tracking_code: s.tracking_code, tracking_url: s.tracking_url, version: s.version });
    }
  }

  function record(event: FeedEvent): void {
    const p = event.payload as Record<string, unknown>;
    const who = `#${short(String(p.public_id))}`;
    const text =
      event.name === 'OrderCreated'
        ? `${who} new ${String(p.fulfilment_type)} order from ${(p.customer as { name?: string } | undefined)?.name ?? 'a customer'}`
        : event.name === 'OrderStatusUpdated'
          ? `${who} ${label(String(p.old_status))} → ${label(String(p.new_status))}${p.reason ? ` (${String(p.reason)})` : ''}`
          : `${who} shipping ${String(p.new_shipping_status)}${p.tracking_code ? ` · ${String(p.tracking_code)}` : ''}`;
    activity.value = [{ position: event.position, text, at: String(p.timestamp ?? new Date().toISOString()) }, ...activity.value].slice(0, 100);
  }

  async function act(order: OrderView, action: OrderAction): Promise<boolean> {
    const base = `/api/stores/${order.store_id}/orders/${order.id}`;
    const version = order.version;
    busy.add(order.id);
    cardNotice.delete(order.id);
    try {
      const res =
        action.kind === 'status'
          ? await patch<{ order: OrderView }>(`${base}/status`, { status: action.to, version })
          : action.kind === 'ship'
            ? await post<{ order: OrderView }>(`${base}/ship`, { tracking_code: action.trackingCode, ...(action.trackingUrl ? { tracking_url: action.trackingUrl } : {}), version })
            : action.kind === 'override'
              ? await post<{ order: OrderView }>(`${base}/override`, { status: action.to, reason: action.reason, version })
              : await post<{ order: OrderView }>(`${base}/${action.kind}`, { reason: action.reason, version });
      upsert(res.order);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.code === CONFLICT) {
        const fresh = e.details?.order as OrderView | undefined;
        if (fresh) upsert(fresh);
        else await fetchOrder(order.id);
        const now = cards.get(order.id)?.status ?? fresh?.status;
        const text = `Someone else changed order ${short(order.public_id)} first${now ? `: it is now ${label(now)}` : ''}. The card shows it as it is now; check it and try again.`;
        cardNotice.set(order.id, cardAlert('warning', text, order.id));
      } else {
        cardNotice.set(order.id, cardAlert('error', e instanceof Error ? e.message : String(e), order.id));
      }
      return false;
    } finally {
      busy.delete(order.id);
    }
  }

  return { storeId, cards, list, activity, feedPosition, notices, cardNotice, busy, loading, error, changes, load, apply, act, notify, dismiss };
});

function fromCreated(p: OrderCreatedData): OrderView {
  return {
    id: p.order_id,
    public_id: p.public_id,
    store_id: p.store_id,
    fulfilment_type: p.fulfilment_type,
    status: p.status,
    shipping_status: p.fulfilment_type === 'shipping' ? 'pending' : null,
    allowed_next: allowedNext(p.fulfilment_type, p.status),
    customer: p.customer,
    shipping_address: p.shipping_address,
    shipping_method: p.shipping_method,
    items: p.items,
    subtotal_minor: p.subtotal_minor,
    shipping_cost_minor: p.shipping_cost_minor,
    total_minor: p.total_minor,
    currency: p.currency,
    tracking_code: null,
    tracking_url: null,
    accepted_at: null,
    ready_at: null,
    completed_at: null,
    cancelled_at: null,
    rejected_at: null,
    created_at: p.timestamp,
    updated_at: p.timestamp,
    version: p.version,
  };
}

export const short = (publicId: string) => publicId.slice(0, 8);

const LABELS: Record<string, string> = {
  pending: 'New',
  accepted: 'Accepted',
  in_progress: 'Preparing',
  packing: 'Packing',
  ready: 'Ready',
  shipped: 'Shipped',
  completed: 'Completed',
  delivered: 'Delivered',
  cancelled: 'Cancelled',
  rejected: 'Rejected',
};
export const label = (status: string) => LABELS[status] ?? status;

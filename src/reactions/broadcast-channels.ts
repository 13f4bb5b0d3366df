/**
 * The names of StoreFlow's real-time channels (DESIGN.md §5), built and parsed in one place:
 * the broadcaster publishes on what these build and /broadcasting/auth decides on what
 * `parseStoreFlowChannel` reads, so the two cannot drift apart. Names are as Echo writes
 * them on the wire (`Echo.private('store.1.orders')` subscribes `private-store.1.orders`).
 *
 * `private-store.{id}.catalog` is ours, not in the design table: ProductUpdated is for the
 * screens that show the catalog, and putting it on `.orders` would wake every order board
 * for a price change.
 */
export const STORE_TOPICS = ['orders', 'notifications', 'catalog'] as const;
export type StoreTopic = (typeof STORE_TOPICS)[number];

export const channelOf = {
  store: (storeId: number, topic: StoreTopic) => `private-store.${storeId}.${topic}`,
  storePresence: (storeId: number) => `presence-store.${storeId}`,
  merchantNotifications: (merchantId: number) => `private-merchant.${merchantId}.notifications`,
  customerOrder: (publicId: string) => `customer.${publicId}.order`,
  customerLoyalty: (publicId: string) => `private-customer.${publicId}.loyalty`,
};

export type StoreFlowChannel =
  | { kind: 'store'; storeId: number; topic: StoreTopic }
  | { kind: 'store-presence'; storeId: number }
  | { kind: 'merchant-notifications'; merchantId: number }
  | { kind: 'customer-order'; publicId: string }
  | { kind: 'customer-loyalty'; publicId: string };

const ID = '([1-9]\\d{0,14})';
/** Order public ids are 16 random bytes in base64url (22 characters); a little slack either way. */
const PUBLIC_ID = '([A-Za-z0-9_-]{16,64})';

const PATTERNS: ReadonlyArray<[RegExp, (m: RegExpExecArray) => StoreFlowChannel]> = [
  [new RegExp(`^private-store\\.${ID}\\.(${STORE_TOPICS.join('|')})$`), (m) => ({ kind: 'store', storeId: Number(m[1]), topic: m[2] as StoreTopic })],
  [new RegExp(`^presence-store\\.${ID}$`), (m) => ({ kind: 'store-presence', storeId: Number(m[1]) })],
  [new RegExp(`^private-merchant\\.${ID}\\.notifications$`), (m) => ({ kind: 'merchant-notifications', merchantId: Number(m[1]) })],
  [new RegExp(`^customer\\.${PUBLIC_ID}\\.order$`), (m) => ({ kind: 'customer-order', publicId: String(m[1]) })],
  [new RegExp(`^private-customer\\.${PUBLIC_ID}\\.loyalty$`), (m) => ({ kind: 'customer-loyalty', publicId: String(m[1]) })],
];

/** What a channel name means to StoreFlow, or null for a name that is none of ours. */
export function parseStoreFlowChannel(name: string): StoreFlowChannel | null {
  for (const [pattern, read] of PATTERNS) {
    const m = pattern.exec(name);
    if (m) return read(m);
  }
  return null;
}

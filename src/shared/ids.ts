/**
 * Branded identifiers. Internal ids are database integers and never leave the staff side;
 * customers only ever see an order's PublicId.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type MerchantId = Brand<number, 'MerchantId'>;
export type StoreId = Brand<number, 'StoreId'>;
export type UserId = Brand<number, 'UserId'>;
export type ProductId = Brand<number, 'ProductId'>;
export type OrderId = Brand<number, 'OrderId'>;
/** Unguessable, URL-safe order token (>= 128 random bits) shown to customers. */
export type PublicId = Brand<string, 'PublicId'>;

export const asMerchantId = (n: number) => n as MerchantId;
export const asStoreId = (n: number) => n as StoreId;
export const asUserId = (n: number) => n as UserId;
export const asProductId = (n: number) => n as ProductId;
export const asOrderId = (n: number) => n as OrderId;
export const asPublicId = (s: string) => s as PublicId;

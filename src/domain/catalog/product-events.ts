export interface ProductUpdatedData {
  product_id: number;
  store_id: number;
  name: string;
  price_minor: number;
  currency: string;
  active: boolean;
  changed: ('name' | 'price_minor' | 'active')[];
  timestamp: string;
  version: number;
}

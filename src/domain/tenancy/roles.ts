/**
 * Roles a user holds in one store. A user may hold different roles in different stores of
 * the same merchant; nothing ever crosses merchants.
 */
export const ROLES = ['owner', 'manager', 'staff'] as const;
export type Role = (typeof ROLES)[number];

/** Everything a role can be asked to do in a store. */
export type StoreAction =
  | 'order.view'
  | 'order.advance' // one step forward in the workflow, including ship
  | 'order.cancel'
  | 'order.reject'
  | 'order.override'
  | 'catalog.manage'
  | 'events.read';

const PERMISSIONS: Record<Role, ReadonlySet<StoreAction>> = {
  staff: new Set(['order.view', 'order.advance', 'events.read']),
  manager: new Set(['order.view', 'order.advance', 'order.cancel', 'order.reject', 'catalog.manage', 'events.read']),
  owner: new Set([
    'order.view',
    'order.advance',
    'order.cancel',
    'order.reject',
    'order.override',
    'catalog.manage',
    'events.read',
  ]),
};

export function roleAllows(role: Role, action: StoreAction): boolean {
  return PERMISSIONS[role].has(action);
}

export interface Actor {
  userId: number;
  role: Role;
}

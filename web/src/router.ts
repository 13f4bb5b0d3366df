import { reactive } from 'vue';

/**
 * A small history router: the app has a handful of screens and no nested routes, so a
 * table of patterns is all it needs. Links use `navigate`; the browser's back and forward
 * buttons work through `popstate`.
 */
export type RouteName = 'login' | 'board' | 'shop' | 'track' | 'monitor' | 'home' | 'not-found';

export interface Route {
  name: RouteName;
  params: Record<string, string>;
  path: string;
}

const TABLE: Array<[RouteName, RegExp, string[]]> = [
  ['home', /^\/$/, []],
  ['login', /^\/login$/, []],
  ['board', /^\/board$/, []],
  ['monitor', /^\/monitor$/, []],
  ['shop', /^\/shop\/(\d{1,15})$/, ['storeId']],
  ['track', /^\/track\/([A-Za-z0-9_-]{16,64})$/, ['publicId']],
];

export function match(path: string): Route {
  for (const [name, pattern, keys] of TABLE) {
    const m = pattern.exec(path);
    if (m) return { name, path, params: Object.fromEntries(keys.map((k, i) => [k, decodeURIComponent(m[i + 1] ?? '')])) };
  }
  return { name: 'not-found', path, params: {} };
}

export const route = reactive<Route>(match(location.pathname));

export function navigate(path: string, replace = false): void {
  if (path === location.pathname) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  Object.assign(route, match(location.pathname));
}

window.addEventListener('popstate', () => Object.assign(route, match(location.pathname)));

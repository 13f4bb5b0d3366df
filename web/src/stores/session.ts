import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { ApiError, get, post, setCsrfToken, whenUnauthorized } from '../api/http.js';
import type { Me, StoreAccess } from '../api/types.js';

const STORE_KEY = 'storeflow.store';

/** Who is signed in, the stores they may access (from /api/me) and the one on screen. */
export const useSession = defineStore('session', () => {
  const me = ref<Me | null>(null);
  const checked = ref(false);
  const chosenStoreId = ref<number | null>(Number(localStorage.getItem(STORE_KEY)) || null);

  const stores = computed<StoreAccess[]>(() => me.value?.stores ?? []);
  const store = computed<StoreAccess | null>(() => stores.value.find((s) => s.store_id === chosenStoreId.value) ?? stores.value[0] ?? null);
  /** Owners of any store see the event monitor (platform admins too; the API decides). */
  const isOperator = computed(() => stores.value.some((s) => s.role === 'owner'));

  whenUnauthorized(() => {
    me.value = null;
    setCsrfToken(null);
  });

  function accept(value: Me): void {
    me.value = value;
    setCsrfToken(value.csrf_token);
  }

  let loading: Promise<Me | null> | null = null;
  /** Asks the server once per page who is signed in. */
  function ensureLoaded(): Promise<Me | null> {
    loading ??= load();
    return loading;
  }

  async function load(): Promise<Me | null> {
    try {
      accept(await get<Me>('/api/me'));
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      me.value = null;
    } finally {
      checked.value = true;
    }
    return me.value;
  }

  async function login(email: string, password: string): Promise<void> {
    accept(await post<Me>('/api/auth/login', { email, password }));
    checked.value = true;
  }

  async function logout(): Promise<void> {
    await post('/api/auth/logout').catch(() => undefined);
    me.value = null;
    setCsrfToken(null);
  }

  function chooseStore(storeId: number): void {
    chosenStoreId.value = storeId;
    localStorage.setItem(STORE_KEY, String(storeId));
  }

  return { me, checked, stores, store, isOperator, load, ensureLoaded, login, logout, chooseStore };
});

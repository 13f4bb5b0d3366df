import type Echo from 'laravel-echo';
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { createEcho } from '../api/realtime.js';
import type { ConnectionState } from '../realtime/index.js';

/**
 * The staff page's one WebSocket connection and its state, which the indicator shows. The
 * feeds (board, notifications) share it; each reports the state it sees, which is this one.
 */
export const useLive = defineStore('live', () => {
  const echo = shallowRef<Echo<'pusher'> | null>(null);
  const state = ref<ConnectionState>('connecting');
  let opening: Promise<Echo<'pusher'>> | null = null;

  function connect(csrfToken: string | null): Promise<Echo<'pusher'>> {
    opening ??= createEcho(csrfToken).then((e) => {
      echo.value = e;
      return e;
    });
    return opening;
  }

  function disconnect(): void {
    echo.value?.disconnect();
    echo.value = null;
    opening = null;
    state.value = 'connecting';
  }

  function report(s: ConnectionState): void {
    state.value = s;
  }

  return { echo, state, connect, disconnect, report };
});

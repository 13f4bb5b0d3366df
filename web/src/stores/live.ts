import type Echo from 'laravel-echo';
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { createEcho, withoutSocket } from '../api/realtime.js';
import type { ConnectionState, EchoLike, PusherLike } from '../realtime/index.js';

/**
 * The staff page's one WebSocket connection and its state, which the indicator shows. The
 * feeds (board, notifications) share it; each reports the state it sees, which is this one.
 * When no connection can even be set up (the client config is unreachable), the feeds get a
 * socket that is never there and simply poll: real time is an enhancement, not a dependency.
 */
export const useLive = defineStore('live', () => {
  const echo = shallowRef<Echo<'pusher'> | null>(null);
  const state = ref<ConnectionState>('connecting');
  let opening: Promise<PusherLike | EchoLike> | null = null;

  function connect(csrfToken: string | null): Promise<PusherLike | EchoLike> {
    opening ??= createEcho(csrfToken).then(
      (e) => {
        echo.value = e;
        return e as unknown as EchoLike;
      },
      (err: unknown) => {
        console.warn('no real-time connection; polling instead', err);
        opening = null;
        return withoutSocket();
      },
    );
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

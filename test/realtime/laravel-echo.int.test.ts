import type Echo from 'laravel-echo';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../support/realtime-apps.js';
import { echoClient, pusherClient, whenConnected, type ClientIdentity } from '../support/realtime-clients.js';
import { startRealtime, type RealtimeHarness } from '../support/realtime-server.js';
import { waitFor } from '../support/waiting.js';

type Member = { name: string };

describe('laravel-echo 2.5 (pusher broadcaster) against the server', () => {
  const app = testApp();
  let h: RealtimeHarness;
  const echoes: Array<Echo<'pusher'>> = [];
  const echo = async (who: ClientIdentity = {}) => {
    const pusher = pusherClient(h.port, app, who);
    const e = echoClient(pusher);
    echoes.push(e);
    await whenConnected(pusher);
    return e;
  };
  const publish = (channel: string, event: string, data: unknown, excludeSocketId?: string) =>
    h.node.control.publish({ appId: app.id, channels: [channel], event, data: JSON.stringify(data), excludeSocketId });
  const subscribed = (channel: { name: string; pusher: { channel(name: string): { subscribed: boolean } | undefined } }) =>
    waitFor(`subscribed to ${channel.name}`, () => channel.pusher.channel(channel.name)?.subscribed === true);

  beforeAll(async () => {
    h = await startRealtime({ apps: [app] });
  });
  afterEach(() => {
    for (const e of echoes.splice(0)) e.disconnect();
  });
  afterAll(async () => {
    await h.stop();
    expect(h.errors).toEqual([]);
  });

  it("listen('.Name') binds the name verbatim and listen('Name') the App\\Events one", async () => {
    const e = await echo();
    const verbatim: unknown[] = [];
    const namespaced: unknown[] = [];
    const channel = e.channel('store.1.orders').listen('.OrderShipped', (d: unknown) => verbatim.push(d));
    channel.listen('OrderShipped', (d: unknown) => namespaced.push(d));
    await subscribed(channel);
    await publish('store.1.orders', 'OrderShipped', { order: 7 });
    await publish('store.1.orders', 'App\\Events\\OrderShipped', { order: 8 });
    await waitFor('both events', () => verbatim.length === 1 && namespaced.length === 1);
    expect(verbatim).toEqual([{ order: 7 }]);
    expect(namespaced).toEqual([{ order: 8 }]);
  });

  it('relays a whisper on a private channel to the others but never back to the sender', async () => {
    const a = await echo();
    const b = await echo();
    const heardByA: unknown[] = [];
    const heardByB: unknown[] = [];
    const markers: unknown[] = [];
    const chA = a.private('store.1').listenForWhisper('typing', (d: unknown) => heardByA.push(d)).listen('.Marker', (d: unknown) => markers.push(d));
    const chB = b.private('store.1').listenForWhisper('typing', (d: unknown) => heardByB.push(d));
    await subscribed(chA);
    await subscribed(chB);
    chA.whisper('typing', { who: 'a' });
    await waitFor('b hears the whisper', () => heardByB.length === 1);
    // Frames to one socket keep their order: a marker published after b heard the whisper
    // reaches a after any copy of the whisper would have.
    await publish('private-store.1', 'Marker', {});
    await waitFor('a gets the marker', () => markers.length === 1);
    expect(heardByB).toEqual([{ who: 'a' }]);
    expect(heardByA).toEqual([]);
    expect(h.sink.named('client_event').at(-1)).toMatchObject({ channel: 'private-store.1', event: 'client-typing', data: '{"who":"a"}' });
  });

  it('presence: here, joining and leaving with two users, one of them in two tabs', async () => {
    const ann1 = await echo({ user: { id: 1, info: { name: 'Ann' } } });
    const bob = await echo({ user: { id: 'bob', info: { name: 'Bob' } } });
    const ann2 = await echo({ user: { id: 1, info: { name: 'Ann' } } });
    const seen = { annHere: [] as Member[][], annJoining: [] as Member[], annLeaving: [] as Member[], bobHere: [] as Member[][], bobLeaving: [] as Member[] };

    ann1
      .join('room.1')
      .here((m: Member[]) => seen.annHere.push(m))
      .joining((m: Member) => seen.annJoining.push(m))
      .leaving((m: Member) => seen.annLeaving.push(m));
    await waitFor('ann here', () => seen.annHere.length === 1);
    expect(seen.annHere[0]).toEqual([{ name: 'Ann' }]);

    bob
      .join('room.1')
      .here((m: Member[]) => seen.bobHere.push(m))
      .leaving((m: Member) => seen.bobLeaving.push(m));
    await waitFor('bob here and ann told', () => seen.bobHere.length === 1 && seen.annJoining.length === 1);
    expect(seen.bobHere[0]).toEqual(expect.arrayContaining([{ name: 'Ann' }, { name: 'Bob' }]));
    expect(seen.annJoining).toEqual([{ name: 'Bob' }]);

    // A second tab of Ann: she is already a member, so nobody is told she joined.
    const tab2Here: Member[][] = [];
    ann2.join('room.1').here((m: Member[]) => tab2Here.push(m));
    await waitFor('tab 2 here', () => tab2Here.length === 1);
    expect(tab2Here[0]).toHaveLength(2);
    expect(await h.node.control.users(app.id, 'presence-room.1')).toEqual(['1', 'bob']);

    // Her first tab leaves: she is still there in the second, so Bob sees nothing.
    ann1.leave('room.1');
    await waitFor('ann1 left', async () => (await h.node.control.channel(app.id, 'presence-room.1')).subscriptionCount === 2);
    const bobMarker: unknown[] = [];
    bob.join('room.1').listen('.Marker2', (d: unknown) => bobMarker.push(d));
    await publish('presence-room.1', 'Marker2', {});
    await waitFor('bob got marker 2', () => bobMarker.length === 1);
    expect(seen.bobLeaving).toEqual([]);

    // Her last tab leaves: now Bob is told.
    ann2.leave('room.1');
    await waitFor('bob sees ann leave', () => seen.bobLeaving.length === 1);
    expect(seen.bobLeaving).toEqual([{ name: 'Ann' }]);
    expect(h.sink.named('member_added').filter((o) => o.channel === 'presence-room.1').map((o) => o.user_id)).toEqual(['1', 'bob']);
    expect(h.sink.named('member_removed').filter((o) => o.channel === 'presence-room.1').map((o) => o.user_id)).toEqual(['1']);
  });

  it('stamps user_id on whispers in presence channels', async () => {
    const ann = await echo({ user: { id: 'ann', info: { name: 'Ann' } } });
    const bob = await echo({ user: { id: 'bob', info: { name: 'Bob' } } });
    const heard: Array<{ data: unknown; meta: unknown }> = [];
    const annRoom = ann.join('room.2');
    const bobRoom = bob.join('room.2').listenForWhisper('wave', (data: unknown, meta: unknown) => heard.push({ data, meta }));
    await subscribed(annRoom);
    await subscribed(bobRoom);
    annRoom.whisper('wave', { hi: true });
    await waitFor('bob hears ann', () => heard.length === 1);
    expect(heard[0]).toEqual({ data: { hi: true }, meta: { user_id: 'ann' } });
  });

  it('leaves out the socket named in excludeSocketId (toOthers / X-Socket-ID)', async () => {
    const a = await echo();
    const b = await echo();
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    const chA = a.private('store.9').listen('.OrderUpdated', (d: unknown) => gotA.push(d));
    const chB = b.private('store.9').listen('.OrderUpdated', (d: unknown) => gotB.push(d));
    await subscribed(chA);
    await subscribed(chB);
    await publish('private-store.9', 'OrderUpdated', { n: 1 }, a.socketId());
    await publish('private-store.9', 'OrderUpdated', { n: 2 });
    await waitFor('a gets the second, b both', () => gotA.length === 1 && gotB.length === 2);
    expect(gotA).toEqual([{ n: 2 }]);
    expect(gotB).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

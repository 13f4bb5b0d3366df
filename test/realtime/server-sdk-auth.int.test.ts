import PusherSdk from 'pusher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../support/realtime-apps.js';
import { RawClient } from '../support/realtime-clients.js';
import { startRealtime, type RealtimeHarness } from '../support/realtime-server.js';

/**
 * The auth an app computes with the official `pusher` server SDK (what Laravel's and Node
 * backends return from their auth endpoints) is what the server accepts.
 */
describe('auth signed by the pusher server SDK 5.3', () => {
  const app = testApp();
  const sdk = new PusherSdk({
    appId: app.id,
    key: app.key,
    secret: app.secret,
    cluster: 'local',
    encryptionMasterKeyBase64: Buffer.alloc(32, 7).toString('base64'),
  });
  let h: RealtimeHarness;

  beforeAll(async () => {
    h = await startRealtime({ apps: [app] });
  });
  afterAll(async () => {
    await h.stop();
    expect(h.errors).toEqual([]);
  });

  it('accepts private, presence and encrypted channel authorizations and user sign-in', async () => {
    const { client, socketId } = await RawClient.established(h.url(app.key));
    const priv = sdk.authorizeChannel(socketId, 'private-sdk');
    client.subscribe('private-sdk', priv.auth);
    const presence = sdk.authorizeChannel(socketId, 'presence-sdk', { user_id: '5', user_info: { name: 'Five' } });
    client.subscribe('presence-sdk', presence.auth, presence.channel_data);
    const encrypted = sdk.authorizeChannel(socketId, 'private-encrypted-sdk');
    expect(encrypted.shared_secret).toBeTruthy();
    client.subscribe('private-encrypted-sdk', encrypted.auth);
    for (const channel of ['private-sdk', 'presence-sdk', 'private-encrypted-sdk']) {
      await client.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === channel);
    }
    const user = sdk.authenticateUser(socketId, { id: 'sdk-user' });
    client.send({ event: 'pusher:signin', data: user });
    expect((await client.next('pusher:signin_success')).data).toEqual({ user_data: user.user_data });
    expect(client.all('pusher:subscription_error')).toEqual([]);
    expect(client.all('pusher:error')).toEqual([]);
    client.close();
  });

  it('relays encrypted payloads opaquely, byte for byte', async () => {
    const { client, socketId } = await RawClient.established(h.url(app.key));
    client.subscribe('private-encrypted-box', sdk.authorizeChannel(socketId, 'private-encrypted-box').auth);
    await client.next('pusher_internal:subscription_succeeded');
    const opaque = '{"nonce":"bm9uY2U=","ciphertext":"Y2lwaGVy\\/dGV4dA=="}';
    await h.node.control.publish({ appId: app.id, channels: ['private-encrypted-box'], event: 'Sealed', data: opaque });
    const frame = await client.next('Sealed');
    expect((JSON.parse(frame.raw) as { data: string }).data).toBe(opaque);
    client.close();
  });
});

import Pusher from 'pusher';
import { describe, expect, it } from 'vitest';
import {
  bodyMd5,
  presenceChannelAuth,
  privateChannelAuth,
  sharedSecret,
  signRequest,
  signaturesEqual,
  stringToSign,
  userAuth,
  verifyRequest,
  webhookSignature,
} from '../../../src/realtime/http-api/signature.js';

/** The published vectors (PUSHER-PROTOCOL.md, from Pusher's docs) and the `pusher` SDK as judge. */
const KEY = '278d425bdf160c739803';
const SECRET = '7ad3773142a6692b25b8';
const MASTER_KEY_BASE64 = Buffer.alloc(32, 7).toString('base64');
const sdk = new Pusher({ appId: '3', key: KEY, secret: SECRET, host: '127.0.0.1', encryptionMasterKeyBase64: MASTER_KEY_BASE64 });

describe('channel signatures', () => {
  it('signs a private channel as the published vector', () => {
    expect(privateChannelAuth(SECRET, '1234.1234', 'private-foobar')).toBe(
      '58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4',
    );
  });

  it('signs a presence channel over the exact channel_data string as the published vector', () => {
    const channelData = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}';
    expect(presenceChannelAuth(SECRET, '1234.1234', 'presence-foobar', channelData)).toBe(
      '31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80',
    );
  });

  it('equals the SDK authorizeChannel for private and presence channels', () => {
    const priv = sdk.authorizeChannel('123.456', 'private-orders');
    expect(priv.auth).toBe(`${KEY}:${privateChannelAuth(SECRET, '123.456', 'private-orders')}`);

    const presence = sdk.authorizeChannel('123.456', 'presence-room', { user_id: '7', user_info: { name: 'Ada' } });
    expect(presence.channel_data).toBeDefined();
    expect(presence.auth).toBe(`${KEY}:${presenceChannelAuth(SECRET, '123.456', 'presence-room', presence.channel_data!)}`);
  });

  it('equals the SDK authenticateUser for a signin', () => {
    const signin = sdk.authenticateUser('55.66', { id: '42', name: 'Grace' });
    expect(signin.auth).toBe(`${KEY}:${userAuth(SECRET, '55.66', signin.user_data)}`);
  });

  it('equals the SDK shared_secret of an encrypted channel', () => {
    const auth = sdk.authorizeChannel('1.2', 'private-encrypted-secrets');
    expect(auth.shared_secret).toBe(sharedSecret('private-encrypted-secrets', Buffer.from(MASTER_KEY_BASE64, 'base64')));
    expect(auth.auth).toBe(`${KEY}:${privateChannelAuth(SECRET, '1.2', 'private-encrypted-secrets')}`);
  });
});

describe('HTTP API request signatures', () => {
  const params = { auth_key: KEY, auth_timestamp: '1353088179', auth_version: '1.0', body_md5: 'ec365a775a4cd0599faeb73354201b6f' };

  it('computes the published body_md5 and request signature', () => {
    expect(bodyMd5('{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}')).toBe(params.body_md5);
    expect(stringToSign('POST', '/apps/3/events', params)).toBe(
      'POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f',
    );
    expect(signRequest(SECRET, 'POST', '/apps/3/events', params)).toBe(
      'da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c',
    );
  });

  it('verifies the query string the SDK signs, ignoring auth_signature and key case', () => {
    const body = JSON.stringify({ name: 'e', data: '{}', channels: ['a'] });
    const qs = sdk.createSignedQueryString({ method: 'POST', path: '/apps/3/events', body, params: { info: 'user_count,subscription_count' } });
    const query = Object.fromEntries(new URLSearchParams(qs));
    expect(verifyRequest(SECRET, 'POST', '/apps/3/events', query, query.auth_signature!)).toBe(true);
    const upper = Object.fromEntries(Object.entries(query).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyRequest(SECRET, 'POST', '/apps/3/events', upper, query.auth_signature!)).toBe(true);
    expect(verifyRequest(SECRET, 'GET', '/apps/3/events', query, query.auth_signature!)).toBe(false);
    expect(verifyRequest(SECRET, 'POST', '/apps/3/events', { ...query, info: 'user_count' }, query.auth_signature!)).toBe(false);
  });

  it('compares signatures of different lengths as unequal without throwing', () => {
    expect(signaturesEqual('abc', 'abcd')).toBe(false);
    expect(signaturesEqual('abc', 'abc')).toBe(true);
  });
});

describe('webhook signatures', () => {
  it('is what the SDK webhook verifier accepts', () => {
    const rawBody = JSON.stringify({ time_ms: 1, events: [{ name: 'channel_occupied', channel: 'a' }] });
    const headers = { 'x-pusher-key': KEY, 'x-pusher-signature': webhookSignature(SECRET, rawBody), 'content-type': 'application/json' };
    expect(sdk.webhook({ headers, rawBody }).isValid()).toBe(true);
    expect(sdk.webhook({ headers: { ...headers, 'x-pusher-signature': webhookSignature('other', rawBody) }, rawBody }).isValid()).toBe(false);
  });
});

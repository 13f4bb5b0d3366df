import { describe, expect, it } from 'vitest';
import { channelSigningString, hmacHex, signChannel, signUser, userSigningString, verifyAuth } from '../../src/realtime/index.js';

describe('Pusher auth signatures', () => {
  const app = { key: '278d425bdf160c739803', secret: '7ad3773142a6692b25b8' };

  it('matches the private channel vector', () => {
    expect(channelSigningString('1234.1234', 'private-foobar')).toBe('1234.1234:private-foobar');
    expect(hmacHex(app.secret, '1234.1234:private-foobar')).toBe('58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4');
    expect(signChannel(app, '1234.1234', 'private-foobar')).toBe(
      '278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4',
    );
  });

  it('matches the presence channel vector, signed over the exact channel_data string', () => {
    const channelData = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}';
    expect(hmacHex(app.secret, channelSigningString('1234.1234', 'presence-foobar', channelData))).toBe(
      '31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80',
    );
  });

  it('signs user sign-in as <socket_id>::user::<user_data>', () => {
    expect(userSigningString('1.2', '{"id":"1"}')).toBe('1.2::user::{"id":"1"}');
    expect(signUser(app, '1.2', '{"id":"1"}')).toBe(`${app.key}:${hmacHex(app.secret, '1.2::user::{"id":"1"}')}`);
  });

  it('verifies only the right key, secret and signed string', () => {
    const auth = signChannel(app, '1234.1234', 'private-foobar');
    expect(verifyAuth(app, auth, '1234.1234:private-foobar')).toBe(true);
    expect(verifyAuth(app, auth, '1234.1235:private-foobar')).toBe(false);
    expect(verifyAuth({ ...app, key: 'other' }, auth, '1234.1234:private-foobar')).toBe(false);
    expect(verifyAuth({ ...app, secret: 'other' }, auth, '1234.1234:private-foobar')).toBe(false);
    for (const bad of [undefined, '', ':', app.key, `${app.key}:`, `${app.key}:zz`, auth.toUpperCase(), `${auth}0`]) {
      expect(verifyAuth(app, bad, '1234.1234:private-foobar')).toBe(false);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { isReservedAddress, namesReservedHost } from '../../../src/reactions/index.js';

describe('webhook target addresses', () => {
  it.each(['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1'])(
    'treats %s as reserved',
    (address) => expect(isReservedAddress(address)).toBe(true),
  );

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', 'example.com'])('treats %s as public', (address) =>
    expect(isReservedAddress(address)).toBe(false),
  );

  it('recognises local names and bracketed IPv6 hosts in URLs', () => {
    expect(namesReservedHost(new URL('http://localhost:3000/x'))).toBe(true);
    expect(namesReservedHost(new URL('http://hooks.localhost/x'))).toBe(true);
    expect(namesReservedHost(new URL('http://[::1]/x'))).toBe(true);
    expect(namesReservedHost(new URL('https://hooks.example.com/x'))).toBe(false);
  });
});

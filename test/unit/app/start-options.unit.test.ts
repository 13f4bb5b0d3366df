import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/app/config.js';
import { startEnvironment } from '../../../src/app/start-options.js';

describe('storeflow start options', () => {
  const env = { STOREFLOW_ROLES: 'web,realtime,worker', PORT: '9000' };

  it('keeps the environment when no --role is given', () => {
    expect(startEnvironment([], env)).toBe(env);
  });

  it.each([
    [['--role', 'worker'], ['worker']],
    [['--role=web,realtime'], ['web', 'realtime']],
    [['--roles', 'realtime,worker'], ['realtime', 'worker']],
  ])('lets %j override STOREFLOW_ROLES', (args, roles) => {
    const config = loadConfig(startEnvironment(args, env));
    expect([...config.roles]).toEqual(roles);
    expect(config.PORT).toBe(9000);
  });

  it('refuses a missing value, an unknown option and an unknown role', () => {
    expect(() => startEnvironment(['--role'], env)).toThrow('--role needs a value');
    expect(() => startEnvironment(['--role', '--port'], env)).toThrow('--role needs a value');
    expect(() => startEnvironment(['--port', '1'], env)).toThrow('unknown option --port');
    expect(() => loadConfig(startEnvironment(['--role', 'web,sockets'], env))).toThrow('STOREFLOW_ROLES');
  });
});

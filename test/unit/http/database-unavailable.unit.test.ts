import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../../../src/http/error-handler.js';
import { expectErrorBody } from '../../support/http-app.js';

/**
 * The one error handler turns every connection-class database failure into 503
 * DATABASE_UNAVAILABLE (with Retry-After), whatever shape pg or Node gives it, and leaves
 * every other failure a 500.
 */
const pgError = (code: string, message = 'server said no') => Object.assign(new Error(message), { code });
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

const UNAVAILABLE: Record<string, () => unknown> = {
  'connection refused': refused,
  'connection reset': () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
  'admin shutdown (57P01)': () => pgError('57P01', 'terminating connection due to administrator command'),
  'crash shutdown (57P02)': () => pgError('57P02'),
  'starting up (57P03)': () => pgError('57P03', 'the database system is starting up'),
  'connection failure (08006)': () => pgError('08006'),
  'unable to connect (08001)': () => pgError('08001'),
  'too many connections (53300)': () => pgError('53300'),
  'statement timeout (57014)': () => pgError('57014', 'canceling statement due to statement timeout'),
  'connection terminated': () => new Error('Connection terminated unexpectedly'),
  'pool timeout': () => new Error('timeout exceeded when trying to connect'),
  'no answer (query_timeout)': () => new Error('Query read timeout'),
  'refused on every address': () => new AggregateError([refused(), refused()], 'connect failed'),
  'wrapped in a cause': () => new Error('could not write the order', { cause: refused() }),
};
const OTHER: Record<string, () => unknown> = {
  'unique violation (23505)': () => pgError('23505'),
  'syntax error (42601)': () => pgError('42601'),
  'a plain bug': () => new TypeError('x is not a function'),
};

describe('database failures in the error handler', () => {
  const app = Fastify({ logger: false });
  beforeAll(async () => {
    installErrorHandler(app);
    app.get('/fail/:kind', async (request) => {
      const { kind } = request.params as { kind: string };
      throw (UNAVAILABLE[kind] ?? OTHER[kind])!();
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it.each(Object.keys(UNAVAILABLE))('answers 503 DATABASE_UNAVAILABLE for %s', async (kind) => {
    const res = await app.inject({ url: `/fail/${encodeURIComponent(kind)}` });
    expectErrorBody(res.statusCode, res.json());
    expect(res.json().error.code).toBe('DATABASE_UNAVAILABLE');
    expect(res.headers['retry-after']).toBe('5');
  });

  it.each(Object.keys(OTHER))('answers 500 INTERNAL for %s', async (kind) => {
    const res = await app.inject({ url: `/fail/${encodeURIComponent(kind)}` });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('INTERNAL');
  });
});

import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { systemClock, type Clock } from '../../shared/index.js';
import type { PusherApp, RealtimeControl } from '../contracts.js';
import { MediumUnavailableError } from '../fanout/fanout.js';
import { attributesOf, parseInfo, type ChannelAttributes } from './channel-attributes.js';
import { isPresenceChannel, isValidChannelName, isValidUserId } from './channel-names.js';
import { PusherHttpError } from './http-api-errors.js';
import { batchBodySchema, parseBody, triggerBodySchema } from './http-api-schemas.js';
import { checkBatch, checkTrigger, type CheckedPublication } from './publications.js';
import { authenticate, parseSignedQuery, signingPaths } from './request-auth.js';

export interface PusherHttpApiOptions {
  control: RealtimeControl;
  clock?: Clock;
  /** Largest request body read; the default fits a full batch of 10 events of 10 KB. */
  bodyLimitBytes?: number;
}

const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

interface SignedCall<P extends string> {
  app: PusherApp;
  params: Record<'appId' | P, string>;
  query: Record<string, string>;
  rawBody: string;
}

/**
 * The Pusher HTTP API (what the server SDKs and Laravel's pusher broadcaster call), signed
 * as Pusher signs it. An encapsulated Fastify plugin: register it at the root or under any
 * prefix (`app.register(pusherHttpApi, { prefix: '/pusher', control })`); signatures are
 * checked over the path from `/apps/` on. Inside its scope every body is kept as the raw
 * string (body_md5 is over the exact bytes) and errors are Pusher-like plain text.
 */
export const pusherHttpApi: FastifyPluginAsync<PusherHttpApiOptions> = async (api, opts) => {
  const { control } = opts;
  const clock = opts.clock ?? systemClock;
  const mountPrefix = api.prefix;

  api.removeAllContentTypeParsers();
  api.addContentTypeParser('*', { parseAs: 'string', bodyLimit: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES }, (_req, body, done) =>
    done(null, body),
  );
  api.setErrorHandler((err: FastifyError | PusherHttpError | MediumUnavailableError, request, reply) => {
    const e = err instanceof PusherHttpError ? err : err instanceof MediumUnavailableError ? new PusherHttpError('CLUSTER_UNAVAILABLE') : fromFastifyError(err);
    if (e.status >= 500) request.log.error({ err }, 'pusher http api failed');
    return reply.code(e.status).type('text/plain; charset=utf-8').send(e.body);
  });

  function signed<P extends string = never>(handler: (call: SignedCall<P>) => Promise<unknown>) {
    return async (request: FastifyRequest, _reply: FastifyReply) => {
      const at = request.url.indexOf('?');
      const rawPath = at < 0 ? request.url : request.url.slice(0, at);
      const query = parseSignedQuery(at < 0 ? '' : request.url.slice(at + 1));
      const params = request.params as Record<'appId' | P, string>;
      const rawBody = typeof request.body === 'string' ? request.body : '';
      const paths = signingPaths(rawPath, mountPrefix);
      const app = authenticate({ appId: params.appId, method: request.method, paths, query, rawBody }, control.apps, clock.now());
      return handler({ app, params, query, rawBody });
    };
  }

  /** Publishes in order, then answers the attributes each caller asked for. */
  async function publish(app: PusherApp, checked: CheckedPublication[]): Promise<Array<Record<string, ChannelAttributes>>> {
    for (const c of checked) await control.publish(c.publication);
    return Promise.all(
      checked.map(async ({ publication, info }) => {
        const wanted = parseInfo(info);
        wanted.delete('cache');
        if (wanted.size === 0) return {};
        const infos = await Promise.all(publication.channels.map((ch) => control.channel(app.id, ch)));
        return Object.fromEntries(publication.channels.map((ch, i) => [ch, attributesOf(ch, infos[i]!, wanted, false)]));
      }),
    );
  }

  api.post(
    '/apps/:appId/events',
    signed(async ({ app, rawBody }) => {
      const checked = checkTrigger(app, parseBody(rawBody, triggerBodySchema));
      const [channels = {}] = await publish(app, [checked]);
      return checked.info === undefined ? {} : { channels };
    }),
  );

  api.post(
    '/apps/:appId/batch_events',
    signed(async ({ app, rawBody }) => {
      const checked = checkBatch(app, parseBody(rawBody, batchBodySchema).batch);
      const infos = await publish(app, checked);
      return { batch: infos.map((byChannel) => Object.values(byChannel)[0] ?? {}) };
    }),
  );

  api.get(
    '/apps/:appId/channels',
    signed(async ({ app, query }) => {
      const prefix = query.filter_by_prefix ?? '';
      const wanted = parseInfo(query.info);
      wanted.delete('cache');
      if (wanted.has('user_count') && !isPresenceChannel(prefix)) throw new PusherHttpError('USER_COUNT_PRESENCE_ONLY');
      const all = await control.channels(app.id, prefix === '' ? undefined : prefix);
      const occupied = [...all].filter(([name, info]) => info.occupied && name.startsWith(prefix));
      return { channels: Object.fromEntries(occupied.map(([name, info]) => [name, attributesOf(name, info, wanted, false)])) };
    }),
  );

  api.get(
    '/apps/:appId/channels/:channelName',
    signed<'channelName'>(async ({ app, params, query }) => {
      const name = validChannel(params.channelName);
      const info = await control.channel(app.id, name);
      return { occupied: info.occupied, ...attributesOf(name, info, parseInfo(query.info), true) };
    }),
  );

  api.get(
    '/apps/:appId/channels/:channelName/users',
    signed<'channelName'>(async ({ app, params }) => {
      const name = validChannel(params.channelName);
      if (!isPresenceChannel(name)) throw new PusherHttpError('NOT_A_PRESENCE_CHANNEL');
      const ids = await control.users(app.id, name);
      return { users: ids.map((id) => ({ id })) };
    }),
  );

  api.post(
    '/apps/:appId/users/:userId/terminate_connections',
    signed<'userId'>(async ({ app, params }) => {
      if (!isValidUserId(params.userId)) throw new PusherHttpError('USER_ID_INVALID');
      await control.terminateUserConnections(app.id, params.userId);
      return {};
    }),
  );
};

function validChannel(name: string): string {
  if (!isValidChannelName(name)) throw new PusherHttpError('CHANNEL_NAME_INVALID', JSON.stringify(name.slice(0, 210)));
  return name;
}

function fromFastifyError(err: FastifyError): PusherHttpError {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new PusherHttpError('BODY_TOO_LARGE');
  const status = err.statusCode ?? 500;
  return status >= 400 && status < 500 ? new PusherHttpError('BODY_INVALID', err.message) : new PusherHttpError('INTERNAL');
}

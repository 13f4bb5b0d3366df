import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { signChannel, signUser, type AppCredentials } from '../../realtime/index.js';
import type { OrderStore, TenancyStore } from '../../store/index.js';
import { channelAccess, refuse } from '../channel-access.js';

export interface BroadcastingDeps {
  tenancy: TenancyStore;
  orders: OrderStore;
  /** StoreFlow's own Pusher app: what the signatures are made with. */
  pusher: AppCredentials;
}

const socketId = z.string().regex(/^\d{1,20}\.\d{1,20}$/, 'a Pusher socket id <digits>.<digits>');
const channelBody = z.object({ socket_id: socketId, channel_name: z.string().min(1).max(200) });
const userBody = z.object({ socket_id: socketId });
const channelReply = z.object({ auth: z.string(), channel_data: z.string().optional() });
const userReply = z.object({ auth: z.string(), user_data: z.string() });

/**
 * Laravel Echo's authorization endpoints, as pusher-js calls them: a POST with
 * `socket_id` and `channel_name`, form-encoded (pusher-js's default) or JSON, signed in by
 * the session cookie plus X-CSRF-TOKEN or by a bearer token. Who may join what is decided
 * in channel-access.ts; a denial is a 403 with a registry error, which pusher-js reports as
 * a failed subscription.
 */
export async function broadcastingRoutes(app: FastifyInstance, deps: BroadcastingDeps) {
  // Encapsulated: only these routes take form bodies. No @fastify/formbody for two fields.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/broadcasting/auth',
    {
      schema: {
        body: channelBody,
        response: { 200: channelReply },
        tags: ['real-time'],
        summary: 'Authorize a private or presence channel subscription (Laravel Echo / pusher-js)',
      },
    },
    async (request) => {
      const { socket_id, channel_name } = request.body;
      const decision = await channelAccess(channel_name, request, deps);
      const channelData = decision.presence ? JSON.stringify(decision.presence) : undefined;
      return {
        auth: signChannel(deps.pusher, socket_id, channel_name, channelData),
        ...(channelData !== undefined ? { channel_data: channelData } : {}),
      };
    },
  );

  r.post(
    '/broadcasting/user-auth',
    {
      schema: {
        body: userBody,
        response: { 200: userReply },
        tags: ['real-time'],
        summary: 'Authenticate the signed-in user for pusher:signin (Laravel Echo / pusher-js)',
      },
    },
    async (request) => {
      const user = signedIn(request);
      const userData = JSON.stringify({ id: String(user.userId), name: user.name });
      return { auth: signUser(deps.pusher, request.body.socket_id, userData), user_data: userData };
    },
  );
}

function signedIn(request: FastifyRequest) {
  if (request.csrfRejected) refuse('csrf');
  if (!request.principal) refuse('anonymous');
  return request.principal;
}

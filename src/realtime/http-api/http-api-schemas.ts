import { z } from 'zod';
import { PusherHttpError } from './http-api-errors.js';

/**
 * Shapes of the HTTP API's JSON bodies. Only the shape is checked here; limits with their
 * own status or message (channel count, names, data size) are checked in publications.ts.
 */
const eventFields = {
  name: z.string(),
  data: z.string(),
  socket_id: z.string().optional(),
  info: z.string().optional(),
};

export const triggerBodySchema = z
  .object({ ...eventFields, channels: z.array(z.string()).optional(), channel: z.string().optional() })
  .refine((b) => (b.channels === undefined) !== (b.channel === undefined), {
    message: 'give either channels or channel',
  });

export const batchItemSchema = z.object({ ...eventFields, channel: z.string() });

export const batchBodySchema = z.object({ batch: z.array(batchItemSchema) });

export type TriggerBody = z.infer<typeof triggerBodySchema>;
export type BatchItem = z.infer<typeof batchItemSchema>;

/** JSON.parse then the schema; 400 with the first few issues named. */
export function parseBody<S extends z.ZodType>(raw: string, schema: S): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new PusherHttpError('MALFORMED_JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'} ${i.message}`);
    throw new PusherHttpError('BODY_INVALID', issues.join('; '));
  }
  return parsed.data;
}

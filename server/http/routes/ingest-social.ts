// Social webhooks: the verify-token challenge (GET) and signed events (POST), Meta style.
import { actorOf } from '../access.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUtf8 } from 'node:buffer';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { ForbiddenError, UnauthorizedError, UnsupportedMediaTypeError, ValidationError } from '../../errors.js';
import type { IngestService } from '../../ingest/service.js';
import { ingestSocial, signatureValid, type SocialWebhook } from '../../ingest/social.js';
import { parseJsonBody, requireUtf8 } from '../json-body.js';
import { errorResponses } from '../schemas.js';

const SocialReply = Type.Object({
  received: Type.Integer({ description: "Items acted on: a customer's comment or message opened (or already held) as a contact, or the page's reply recorded as `replied`." }),
  ignored: Type.Integer({ description: "Items that are neither a customer's comment/message nor the page's answer to one Kept holds (edits, reactions, deliveries, reads…)." }),
  rejected: Type.Array(Type.Object({ item: Type.String(), message: Type.String() }), {
    description: 'Items Kept could not take, each with a message naming the field, e.g. `entry[0].changes[1].value.created_time: 10000000000000 (seconds since 1970) is outside the years 2000–2199 Kept supports`. The delivery is still 200: resending would not help.',
  }),
  contacts: Type.Array(Type.String(), { description: 'Ids of the contacts opened or answered, once each.' }),
  ignoredKinds: Type.Record(Type.String(), Type.Integer(), { description: 'What was ignored, by kind: `object:<name>` for a product Kept does not read, `<platform>.<field>` for a field, `whatsapp.statuses.<status>` for delivery notes, `facebook.messaging.message_edit`…' }),
  withdrawn: Type.Array(Type.String(), { description: 'Contacts cancelled (reason `withdrawn`) because the customer deleted the message.' }),
});

const ACCEPTED = ['application/json'] as const;

/** JSON only, in UTF-8 (RFC 8259 §8.1: the signature is over UTF-8 bytes): refused before the body is read. */
function checkContentType(request: FastifyRequest): void {
  const given = request.headers['content-type'] ?? '';
  if (given.split(';', 1)[0]!.trim().toLowerCase() !== 'application/json') throw new UnsupportedMediaTypeError(given, ACCEPTED);
  requireUtf8(request, ACCEPTED);
}

/** The delivery's JSON, or a 400 naming `body` (with the position of the fault) or the refused key's path. */
function readJson(raw: Buffer): SocialWebhook {
  if (!isUtf8(raw)) throw new ValidationError('body', 'is not valid UTF-8', 'invalid-json');
  const doc = parseJsonBody(raw.toString('utf8'));
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ValidationError('body', 'must be a JSON object', 'invalid-json');
  return doc as SocialWebhook;
}

export async function socialRoutes(instance: FastifyInstance, service: IngestService, config: Config): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v1/ingest/social',
    {
      config: { access: 'public' },
      schema: {
        tags: ['ingest'],
        summary: 'The webhook subscription challenge: echoes hub.challenge when hub.verify_token matches',
        querystring: Type.Object({ 'hub.mode': Type.Optional(Type.String()), 'hub.verify_token': Type.Optional(Type.String()), 'hub.challenge': Type.Optional(Type.String()) }),
        response: { 200: Type.String({ description: 'hub.challenge, as text/plain.' }), 403: errorResponses[403] },
      },
    },
    async (request, reply) => {
      const q = request.query;
      if (q['hub.mode'] !== 'subscribe' || config.socialVerifyToken === '' || q['hub.verify_token'] !== config.socialVerifyToken) {
        throw new ForbiddenError('hub.verify_token: does not match KEPT_SOCIAL_VERIFY_TOKEN', 'hub.verify_token');
      }
      return reply.type('text/plain').send(q['hub.challenge'] ?? '');
    },
  );

  // The signature covers the raw bytes, so this scope reads JSON as a buffer and checks it first.
  await app.register(async (scope) => {
    // The app's own JSON parser is inherited: this scope replaces it with the raw bytes.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      '/api/v1/ingest/social',
      {
        config: { access: 'token', tokenInQuery: true },
        onRequest: async (request) => checkContentType(request),
        schema: {
          tags: ['ingest'],
          summary: 'Signed social webhook events (comments and private messages)',
          description: [
            'Checked against X-Hub-Signature-256 (HMAC-SHA256 of the raw body with KEPT_SOCIAL_APP_SECRET) before anything is parsed: missing or wrong is `401` and nothing is stored. The API token may be given as `?access_token=` because the platform cannot set headers.',
            '',
            '- `Content-Type: application/json` in UTF-8 only (another charset is `415`). A body that is not JSON is `400` with the position of the fault; a key named `__proto__`, `constructor` or `prototype` is `400` naming its path.',
            "- `object`: `page` (Facebook: feed comments in every Graph version's shape, `messaging` and `standby` messages), `instagram` (comments, live comments, @mentions, direct messages), `whatsapp_business_account` (`messages`: text, media, location, interactive and button replies open contacts, with the customer's phone; `message_echoes`/`smb_message_echoes`: the business's own messages, replies; `statuses`: delivery notes, counted, never contacts). A message the customer deleted (`is_deleted`) cancels its contact with reason `withdrawn`. Anything else is counted in `ignoredKinds` and logged.",
            "- A `feed` change with `item: comment, verb: add` from a customer, and a `messaging` message from a customer, open a social contact (route customer-services, social-reply: 1 working day; externalId `comment_id` / `mid`; receivedAt `created_time` (seconds) / `timestamp` (milliseconds), else the entry's `time`).",
            "- The page's own items (`from.id` / `sender.id` = KEPT_SOCIAL_PAGE_ID, or the entry's page id) are replies: a comment whose `parent_id` is a stored comment answers it; a message answers that recipient's messages still awaiting a reply.",
            '- Always `200` once the signature checks out and the body is a JSON object (the platform resends on anything else), with counts: other items are ignored; items Kept cannot take (a time outside 2000–2199, an item that is not an object, a missing id…) are listed in `rejected`, naming the field, and the rest are stored. Only a database fault answers `503`, so the platform resends later.',
          ].join('\n'),
          consumes: [...ACCEPTED],
          response: { 200: SocialReply, ...errorResponses },
        },
      },
      async (request) => {
        const raw: unknown = request.body;
        if (!Buffer.isBuffer(raw)) throw new ValidationError('body', "is empty: send the webhook's JSON document", 'invalid-json');
        if (!signatureValid(raw, request.headers['x-hub-signature-256'], config.socialAppSecret)) {
          throw new UnauthorizedError('X-Hub-Signature-256: missing or does not match the body', 'X-Hub-Signature-256');
        }
        const doc = readJson(raw);
        const result = await ingestSocial(service.as(actorOf(request)), config, doc, (item, err) => request.log.error({ err, item }, 'social webhook: an item set off a fault; refused'));
        // Which items, never their messages: a refusal may quote the payload (a customer's words or ids).
        if (result.ignored > 0) request.log.info({ ignoredKinds: result.ignoredKinds }, 'social webhook: items ignored');
        if (result.rejected.length > 0) request.log.warn({ items: result.rejected.slice(0, 20).map((r) => r.item), count: result.rejected.length }, 'social webhook: items not taken');
        return result;
      },
    );
  });
}

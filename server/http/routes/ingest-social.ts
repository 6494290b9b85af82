// Social webhooks: the verify-token challenge (GET) and signed events (POST), Meta style.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import type { IngestService } from '../../ingest/service.js';
import { ingestSocial, signatureValid, type SocialWebhook } from '../../ingest/social.js';
import { HttpError } from '../errors.js';
import { ErrorReply } from '../schemas.js';

const SocialReply = Type.Object({
  received: Type.Integer({ description: "Items acted on: a customer's comment or message opened (or already held) as a contact, or the page's reply recorded as `replied`." }),
  ignored: Type.Integer({ description: "Items that are neither a customer's comment/message nor the page's answer to one Kept holds (edits, reactions, deliveries, reads…)." }),
  rejected: Type.Array(Type.Object({ item: Type.String(), message: Type.String() }), { description: 'Items Kept could not take, e.g. a reply timed before the message it answers. The delivery is still 200: resending would not help.' }),
  contacts: Type.Array(Type.String(), { description: 'Ids of the contacts opened or answered, once each.' }),
});

export async function socialRoutes(app: FastifyInstance, service: IngestService, config: Config): Promise<void> {
  app.get(
    '/api/v1/ingest/social',
    {
      config: { auth: false },
      schema: {
        tags: ['ingest'],
        summary: 'The webhook subscription challenge: echoes hub.challenge when hub.verify_token matches',
        querystring: Type.Object({ 'hub.mode': Type.Optional(Type.String()), 'hub.verify_token': Type.Optional(Type.String()), 'hub.challenge': Type.Optional(Type.String()) }),
      },
    },
    async (request, reply) => {
      const q = request.query as Record<string, string | undefined>;
      if (q['hub.mode'] !== 'subscribe' || config.socialVerifyToken === '' || q['hub.verify_token'] !== config.socialVerifyToken) {
        return reply.status(403).send({ statusCode: 403, error: 'Forbidden', message: 'hub.verify_token does not match KEPT_SOCIAL_VERIFY_TOKEN' });
      }
      return reply.type('text/plain').send(q['hub.challenge'] ?? '');
    },
  );

  // The signature covers the raw bytes, so this scope reads JSON as a buffer and checks it first.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post(
      '/api/v1/ingest/social',
      {
        config: { tokenInQuery: true },
        schema: {
          tags: ['ingest'],
          summary: 'Signed social webhook events (comments and private messages)',
          description: [
            'Checked against X-Hub-Signature-256 (HMAC-SHA256 of the raw body with KEPT_SOCIAL_APP_SECRET) before anything is parsed: missing or wrong is `401` and nothing is stored. The API token may be given as `?access_token=` because the platform cannot set headers.',
            '',
            "- `object: page` entries only. A `feed` change with `item: comment, verb: add` from a customer, and a `messaging` message from a customer, open a social contact (route customer-services, social-reply: 1 working day; externalId `comment_id` / `mid`; receivedAt `created_time` / `timestamp`).",
            "- The page's own items (`from.id` / `sender.id` = KEPT_SOCIAL_PAGE_ID, or the entry's page id) are replies: a comment whose `parent_id` is a stored comment answers it; a message answers that recipient's messages still awaiting a reply.",
            '- Always `200` once the signature checks out (the platform resends on anything else), with counts: other items are ignored, items Kept cannot take are listed in `rejected`.',
          ].join('\n'),
          response: { 200: SocialReply, 400: ErrorReply, 401: ErrorReply, 413: ErrorReply },
        },
      },
      async (request) => {
        const raw = request.body as Buffer;
        if (!signatureValid(raw, request.headers['x-hub-signature-256'], config.socialAppSecret)) {
          throw new HttpError(401, 'X-Hub-Signature-256: missing or does not match the body', 'X-Hub-Signature-256');
        }
        let doc: SocialWebhook;
        try {
          doc = JSON.parse(raw.toString('utf8')) as SocialWebhook;
        } catch {
          throw new HttpError(400, 'body: not valid JSON', 'body');
        }
        if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new HttpError(400, 'body: must be a JSON object', 'body');
        const result = await ingestSocial(service, config, doc);
        if (result.rejected.length > 0) request.log.warn({ rejected: result.rejected }, 'social webhook: items not taken');
        return result;
      },
    );
  });
}

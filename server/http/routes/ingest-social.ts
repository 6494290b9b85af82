// Social webhooks: the verify-token challenge (GET) and signed events (POST), Meta style.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import type { IngestService } from '../../ingest/service.js';
import { ingestSocial, signatureValid, type SocialWebhook } from '../../ingest/social.js';
import { HttpError } from '../errors.js';

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
          description:
            'Checked against X-Hub-Signature-256 (HMAC-SHA256 of the raw body with KEPT_SOCIAL_APP_SECRET) before anything is parsed. The API token may be given as ?access_token= because the platform cannot set headers.',
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
        return ingestSocial(service, config, doc);
      },
    );
  });
}

// POST /api/v1/ingest/email: a raw RFC 5322 message (message/rfc822).
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';
import { ingestEmail } from '../../ingest/email.js';
import type { IngestService } from '../../ingest/service.js';
import { ContactReply, errorResponses } from '../schemas.js';

export async function emailRoutes(app: FastifyInstance, service: IngestService, config: Config): Promise<void> {
  app.addContentTypeParser('message/rfc822', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post(
    '/api/v1/ingest/email',
    {
      schema: {
        tags: ['ingest'],
        summary: 'A raw email (Content-Type: message/rfc822)',
        description:
          'Inbound mail to the customer-services mailbox opens an email contact (route customer-services); to another address at the organisation, route colleague-direct. Message-ID is the externalId (a replay answers 200). Mail from the organisation whose In-Reply-To/References names a stored message becomes its `replied` event. Attachments are not stored: names and sizes only.',
        response: { 200: ContactReply, 201: ContactReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : '');
      const r = await ingestEmail(service, config, raw);
      return reply.status(r.created ? 201 : 200).send(r.contact);
    },
  );
}

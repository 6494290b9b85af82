// POST /api/v1/ingest/email: a raw RFC 5322 message (message/rfc822).
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { ingestEmail, UnansweredEmailError } from '../../ingest/email.js';
import type { IngestService } from '../../ingest/service.js';
import { HttpError } from '../errors.js';
import { ContactReply, errorResponses } from '../schemas.js';

const EmailIgnored = Type.Object(
  {
    ignored: Type.Literal(true),
    reason: Type.String({ description: 'Why nothing was recorded.' }),
    messageId: Type.String(),
  },
  { description: 'An automatic reply from the organisation (Auto-Submitted, X-Autoreply, Precedence: auto_reply): accepted, not recorded.' },
);

export async function emailRoutes(app: FastifyInstance, service: IngestService, config: Config): Promise<void> {
  // The raw message goes to mailparser as bytes (its own charset handling); the body limit still applies (413).
  app.addContentTypeParser('message/rfc822', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post(
    '/api/v1/ingest/email',
    {
      schema: {
        tags: ['ingest'],
        summary: 'A raw email (Content-Type: message/rfc822)',
        description: [
          'The whole message as sent (headers and MIME body), e.g. from a journaling or forwarding rule.',
          '',
          '- Inbound mail with the customer-services mailbox (KEPT_MAILBOX) in To or Cc opens an email contact on route `customer-services` (email-reply, 1 working day); mail to another address at one of KEPT_ORG_DOMAINS, route `colleague-direct` (direct-email-reply, 2 working days; the colleague is in `source.colleague`). Mail to neither is `400` (field `To`).',
          '- `Message-ID` is the externalId (required: `400`, field `Message-ID`); a replay answers `200` with the stored contact.',
          '- `Date` is `receivedAt`; when it is missing, has no UTC offset or is later than Kept received it, Kept uses its own receipt time and says so in `source.note`.',
          '- Mail **from** the organisation is a reply: its In-Reply-To (or References) must name a stored message, which gets a `replied` event (the reply\'s Message-ID is its key; `200`). Naming nothing stored is `404`, field `In-Reply-To`. An automatic reply (auto-acknowledgement, out-of-office) is accepted with `202` and not recorded.',
          '- Attachments are not stored: `source.attachments` lists filename, contentType and size.',
          '- Category is `general`: a complaint cannot be told reliably from mail text; an advisor recategorises.',
        ].join('\n'),
        response: { 200: ContactReply, 201: ContactReply, 202: EmailIgnored, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : '');
      try {
        const r = await ingestEmail(service, config, raw);
        void reply.header('kept-outcome', r.kind);
        if (r.kind === 'ignored') return reply.status(202).send({ ignored: true, reason: r.reason, messageId: r.messageId });
        if (r.kind === 'replied' && r.alsoAnswered.length > 0) void reply.header('kept-also-answered', r.alsoAnswered.join(','));
        return reply.status(r.kind === 'created' ? 201 : 200).send(r.contact);
      } catch (e) {
        if (e instanceof UnansweredEmailError) throw new HttpError(404, e.message, e.field);
        throw e;
      }
    },
  );
}

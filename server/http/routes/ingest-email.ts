// POST /api/v1/ingest/email: a raw RFC 5322 message (message/rfc822), streamed to the parser.
import { actorOf } from '../access.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { ContactError } from '../../domain/model.js';
import { UnsupportedMediaTypeError } from '../../errors.js';
import { AUTOMATIC_KINDS } from '../../ingest/automatic.js';
import { ingestEmail, tooLarge } from '../../ingest/email.js';
import type { IngestService } from '../../ingest/service.js';
import { ContactReply, errorResponses } from '../schemas.js';

const EmailIgnored = Type.Object(
  {
    ignored: Type.Literal(true),
    automatic: Type.String({ description: `What kind of automatic mail it is: ${AUTOMATIC_KINDS.join(', ')}.` }),
    reason: Type.String({ description: 'What gave it away, and that it neither opens nor meets a clock.' }),
    messageId: Type.String(),
    contactId: Type.Optional(Type.String({ description: 'The contact whose thread it names: it carries the message as an `automatic-mail` (or `undelivered`) event.' })),
    undeliveredReply: Type.Optional(Type.String({ description: "A bounce of the centre's reply: that reply's Message-ID, now marked undelivered (it no longer meets the clock)." })),
    alsoUndelivered: Type.Optional(Type.Array(Type.String(), { description: 'The other contacts that reply answered (one reply may answer several stored messages): each now has its `undelivered` event too.' })),
  },
  { description: 'Automatic mail (a bounce, delay warning, read receipt, abuse report, out-of-office or other auto-reply, bulk mail): kept, never a contact and never a reply.' },
);

const ACCEPTED = ['message/rfc822'] as const;

/** The media type of a Content-Type header, lower-cased, without parameters (split, no pattern). */
const mediaTypeOf = (header: string | undefined) => (header ?? '').split(';', 1)[0]!.trim().toLowerCase();

/** After a refusal, how long a sender still writing the body is given to read the answer before the connection is cut. */
const LINGER_MS = 2000;

/**
 * Refuses other media types and declared lengths over the limit before a byte of the body is read.
 * Node then reads the unwanted body to its end and drops it (so the sender can read the answer),
 * unless it is declared larger than twice the limit, or not declared: then the connection closes.
 */
function checkRequest(request: FastifyRequest, reply: FastifyReply, limit: number): void {
  const given = request.headers['content-type'];
  const declared = Number(request.headers['content-length']);
  const refusal = mediaTypeOf(given) !== 'message/rfc822' ? new UnsupportedMediaTypeError(given ?? '', ACCEPTED) : Number.isFinite(declared) && declared > limit ? tooLarge(limit) : undefined;
  if (refusal === undefined) return;
  if (!(Number.isFinite(declared) && declared <= 2 * limit)) void reply.header('connection', 'close');
  throw refusal;
}

const AutomaticList = Type.Object({
  items: Type.Array(
    Type.Object({
      messageId: Type.String(),
      receivedAt: Type.String({ description: "The message's Date (or when Kept received it)." }),
      kind: Type.String({ description: AUTOMATIC_KINDS.join(', ') }),
      marker: Type.String({ description: 'What gave it away.' }),
      subject: Type.Union([Type.String(), Type.Null()]),
      contactId: Type.Union([Type.String(), Type.Null()], { description: 'The contact whose thread it names, if Kept holds it.' }),
      reply: Type.Union([Type.String(), Type.Null()], { description: "A bounce: the centre's reply it returned, now undelivered." }),
    }),
  ),
  next: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as ?before= for the next page.' }),
});

export async function emailRoutes(app: FastifyInstance, service: IngestService, config: Config): Promise<void> {
  const limit = config.emailBodyLimit;
  // Automatic mail is kept apart from contacts: this is where it can be seen (bounces that name no
  // thread Kept holds included).
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/v1/ingest/email/automatic',
    {
      config: { access: { roles: ['team-lead', 'manager'], token: true } },
      schema: {
        tags: ['ingest'],
        summary: 'Automatic mail Kept kept (bounces, delay warnings, read receipts, abuse reports, out-of-office replies), newest first',
        querystring: Type.Object({
          before: Type.Optional(Type.Integer({ minimum: 1, description: "The previous page's `next`." })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
        }),
        response: { 200: AutomaticList, ...errorResponses },
      },
    },
    async (request) => {
      const before = request.query.before ?? Number.MAX_SAFE_INTEGER;
      const n = request.query.limit ?? 100;
      const rows = await service.mail.recentAutomatic(before, n + 1);
      const page = rows.slice(0, n);
      return {
        items: page.map((r) => ({ messageId: r.messageId, receivedAt: new Date(r.receivedAt).toISOString(), kind: r.kind, marker: r.marker, subject: r.subject, contactId: r.contactId, reply: r.reply })),
        next: rows.length > n ? page[page.length - 1]!.seq : null,
      };
    },
  );
  // The message is handed to the route as the request stream (the general body limit does not
  // apply: mail with attachments is larger); ingestEmail counts the bytes against the email limit.
  await app.register(async (scope) => {
    scope.addContentTypeParser('message/rfc822', (_request, payload, done) => done(null, payload));
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      '/api/v1/ingest/email',
      {
        config: { access: 'token' },
        bodyLimit: limit, // what the route reports as its limit; the stream itself is counted by ingestEmail
        onRequest: async (request, reply) => checkRequest(request, reply, limit),
        schema: {
          tags: ['ingest'],
          summary: 'A raw email (Content-Type: message/rfc822)',
          description: [
            'The whole message as sent (headers and MIME body), e.g. from a journaling or forwarding rule.',
            '',
            `- \`Content-Type: message/rfc822\` only (anything else is \`415\`). Up to KEPT_EMAIL_BODY_LIMIT bytes (default 25 MiB, attachments included; larger is \`413\` and nothing is stored). The message is parsed as it arrives, on a separate thread; attachments are counted, never kept.`,
            '- Inbound mail with the customer-services mailbox (KEPT_MAILBOX) in To or Cc opens an email contact on route `customer-services` (email-reply, 1 working day); mail to another address at one of KEPT_ORG_DOMAINS, route `colleague-direct` (direct-email-reply, 2 working days; the colleague is in `source.colleague`). Mail to neither is `400` (field `To`).',
            '- `Message-ID` is the externalId (a message without one is keyed by its sender, date, subject and text, noted in `source.note`); a replay answers `200` with the stored contact.',
            '- The customer is the sender, or the `Reply-To` when a system sent the message for someone (a website form\'s notification). HTML-only mail is summarised from its HTML as text.',
            '- `Date` is `receivedAt`; when it is missing, unreadable, has no UTC offset, is outside the years 2000–2199 or is later than Kept received it, Kept uses its own receipt time and says so in `source.note`.',
            '- Mail **from** the organisation is a reply when its In-Reply-To (or References) names a stored message, which gets a `replied` event (the reply\'s Message-ID is its key; `200`). Sent to the mailbox and naming nothing stored, it is an enquiry: a colleague\'s forward (the customer is the forwarded message\'s sender) or a website\'s notification (the customer is the `Reply-To`). Otherwise `404`, field `In-Reply-To`.',
            '- **Automatic mail** from anyone (RFC 3834 Auto-Submitted, Precedence bulk/junk/list/auto_reply, X-Autoreply/X-Autorespond, X-Auto-Response-Suppress, X-MS-Exchange-* markers, X-Apple-Action, multipart/report DSNs, MDNs and ARF reports, mailer-daemon/postmaster senders, "Automatic reply:"/"Out of Office"/"Undeliverable:" subjects in common languages) answers `202`: kept, never a contact and never a reply; an `automatic-mail` event on the contact whose thread it names; a bounce of the centre\'s reply adds an `undelivered` event, and that reply no longer meets the clock.',
            '- A different message (other sender, date, subject or text) under a stored Message-ID is `409`.',
            '- Attachments are not stored: `source.attachments` lists filename, contentType and size (the first 100; `source.attachmentsNotListed` counts the rest).',
            '- A message the parser cannot read, or makes no progress on for 10 s, is `400` (field `body`); a MIME part with more than 1 MiB of header, or more than 1,000 parts, is `413`. When 32 messages already wait for a parsing thread, `503` with Retry-After.',
            '- Category is `general`: a complaint cannot be told reliably from mail text; an advisor recategorises.',
          ].join('\n'),
          consumes: [...ACCEPTED],
          response: { 200: ContactReply, 201: ContactReply, 202: EmailIgnored, ...errorResponses },
        },
      },
      async (request, reply) => {
        const body: unknown = request.body;
        if (!(body instanceof Readable) && !Buffer.isBuffer(body)) throw new ContactError('body', 'is empty: send the raw message');
        try {
          const r = await ingestEmail(service.as(actorOf(request)), config, body, limit);
          void reply.header('kept-outcome', r.kind);
          if (r.kind === 'automatic') {
            return reply.status(202).send({ ignored: true, automatic: r.automatic, reason: r.reason, messageId: r.messageId, ...(r.contactId !== undefined ? { contactId: r.contactId } : {}), ...(r.undeliveredReply !== undefined ? { undeliveredReply: r.undeliveredReply } : {}), ...(r.alsoUndelivered !== undefined ? { alsoUndelivered: r.alsoUndelivered } : {}) });
          }
          if (r.kind === 'replied' && r.alsoAnswered.length > 0) void reply.header('kept-also-answered', r.alsoAnswered.join(','));
          return reply.status(r.kind === 'created' ? 201 : 200).send(r.contact);
        } catch (e) {
          // Refused before the whole body was read: ingestEmail drops the rest as it comes (up to twice the
          // limit); once the answer is out, a sender that has still not finished is cut off.
          if (body instanceof Readable && !body.readableEnded) {
            reply.raw.once('finish', () => {
              if (body.readableEnded) return;
              setTimeout(() => {
                if (!body.readableEnded) body.destroy();
              }, LINGER_MS).unref();
            });
          }
          throw e;
        }
      },
    );
  });
}

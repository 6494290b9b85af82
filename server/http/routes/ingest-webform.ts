// Webform intake: the integration route (token) and the public, accessible form at /forms/contact
// (no token, rate limited, same-site posts only) with its stylesheet. Both posts run the same
// handler; a browser gets a redirect or the form again, anything else gets JSON.
import { actorOf } from '../access.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { ContactError } from '../../domain/model.js';
import type { IngestService } from '../../ingest/service.js';
import { mappingFor, mapForm, parseMappings, PRESETS } from '../../ingest/form-presets.js';
import { FIELD_LIMITS, HONEYPOT, submitWebform, type FormFields } from '../../ingest/webform.js';
import { filesOf, registerMultipart } from '../forms/multipart.js';
import { FORM_PATH, formPage, loadStylesheet, postedFields, SENT_PATH, sendPage, STYLESHEET_PATH, wantsPagesFromApi, wantsPagesFromForm } from '../forms/contact-page.js';
import { sameOriginPosts } from '../forms/same-origin.js';
import { formErrorHandler, formPostRateLimit, formRateLimit } from '../plugins/form-rate-limit.js';
import { ContactReply, errorResponses } from '../schemas.js';

/** The stylesheet may change with a release: browsers keep it an hour, then revalidate by ETag. */
const STYLESHEET_CACHE = 'public, max-age=3600';

const StringField = (description: string, max: number) => Type.Optional(Type.String({ maxLength: max, description }));

const WebformBody = Type.Object(
  {
    formType: StringField('`general` (default), `complaint`, `feedback` or `asb`: the contact\'s category. A complaint gets the complaint clocks (acknowledge in 24 h, resolve in 10 working days) and no webform-reply clock.', FIELD_LIMITS.formType),
    message: StringField('**Required.** What the customer wrote (the contact\'s summary).', FIELD_LIMITS.message),
    subject: StringField('Optional subject (default from the form type).', FIELD_LIMITS.subject),
    name: StringField('The customer\'s name.', FIELD_LIMITS.name),
    email: StringField('Email address (checked for shape).', FIELD_LIMITS.email),
    phone: StringField('Phone number (at least 6 digits).', FIELD_LIMITS.phone),
    address: StringField('Postal address.', FIELD_LIMITS.address),
    reference: StringField('Tenancy reference.', FIELD_LIMITS.reference),
    preferredContact: StringField('`phone`, `email`, `sms` or `letter`; the matching phone, email or address must then be given.', FIELD_LIMITS.preferredContact),
    accessibilityNeeds: StringField('Anything that helps the organisation contact the customer (large print, interpreter…).', FIELD_LIMITS.accessibilityNeeds),
    submissionId: StringField('The form system\'s id of the submission: the contact\'s externalId (idempotency key). Without it, a hash of the content is used: the same content again within 10 minutes (or with the same submittedAt) is the same contact.', FIELD_LIMITS.submissionId),
    submittedAt: StringField('When it was submitted, ISO-8601 with an offset (default: when Kept received it). The reply clock starts here.', FIELD_LIMITS.submittedAt),
  },
  {
    additionalProperties: true,
    examples: [
      {
        formType: 'complaint',
        name: 'Bea Resident',
        email: 'bea@example.com',
        reference: 'T-004512',
        preferredContact: 'email',
        subject: 'Kitchen repair not finished',
        message: 'The kitchen repair booked for 2 March was not finished and nobody has been back.',
        submissionId: 'cms-sub-88412',
        submittedAt: '2026-03-06T16:00:00Z',
      },
    ],
  },
);

export async function webformRoutes(app: FastifyInstance, service: IngestService, config: Config): Promise<void> {
  const mappings = parseMappings(config.webform.mappings);
  /** `browser`: answer with a redirect (or the form with the error) instead of JSON. */
  const handle = async (posted: FormFields, reply: FastifyReply, browser: boolean, isPublic: boolean) => {
    try {
      // A form builder's payload: its mapping turns it into Kept's fields (the public form has none).
      const q = reply.request.query as { preset?: string; mapping?: string } | undefined;
      const mapping = isPublic ? undefined : mappingFor(q?.preset, q?.mapping, mappings);
      const mapped = mapping === undefined ? { fields: posted } : mapForm(posted, mapping, config.webform.zone);
      const files = filesOf(reply.request.body);
      // The audit trail's actor: the token's name, or `public-form` for the public page.
      const r = await submitWebform(service.as(isPublic ? 'public-form' : actorOf(reply.request)), mapped.fields, {
        publicForm: isPublic,
        ...(mapped.category !== undefined ? { category: mapped.category } : {}),
        files,
      });
      if (browser) return reply.redirect(SENT_PATH, 303);
      // The public route never echoes stored data, and answers a bot exactly as a person.
      if (isPublic || r.bot) return reply.status(200).send({ received: true });
      return reply.status(r.created ? 201 : 200).send(r.contact);
    } catch (e) {
      if (browser && e instanceof ContactError) return sendPage(reply, 400, formPage({ values: posted, error: e, notice: await reply.server.publicNotice(service.now()) }));
      throw e;
    }
  };

  // Multipart (files listed, not stored) for this route, in its own scope so no other route takes it.
  await app.register(async (scope) => {
    registerMultipart(scope, config.webform.bodyLimit, config.webform.maxFiles);
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      '/api/v1/ingest/webform',
      {
        // A builder that cannot set headers (Typeform's webhooks) sends the token as ?access_token= (redacted from logs).
        config: { access: 'token', tokenInQuery: true },
        schema: {
          tags: ['ingest'],
          summary: 'A web form submission (JSON, urlencoded or multipart), in Kept\'s fields or a form builder\'s (?preset= or ?mapping=)',
          description: [
            'For a website\'s own form handler or a forms platform (token required). Body: JSON, `application/x-www-form-urlencoded` or `multipart/form-data` with the fields below; unknown fields are ignored.',
            '',
            `- \`?preset=\` ${PRESETS.map((p) => `\`${p}\``).join(', ')}: the builder's own payload (Contact Form 7's \`your-name\`/\`your-email\`/\`your-message\`; Gravity Forms' entry with field ids and \`date_created\` in UTC; Typeform's \`form_response\` answers by type; Microsoft Forms' "Get response details" body from Power Automate). \`?mapping=NAME\`: a mapping named in KEPT_WEBFORM_MAPPINGS. A choice field's label becomes the category (Repair → repair, Complaint → complaint…); a time without an offset is read in the mapping's zone (default KEPT_WEBFORM_ZONE).`,
            '- `multipart/form-data`: files (a photo of the damp) are listed on the contact (`source.files`: field, name, type, size) and never stored; at most KEPT_WEBFORM_MAX_FILES files and KEPT_WEBFORM_BODY_LIMIT bytes (**413** past them).',
            '- A new submission answers **201** with the contact and its clocks; a replay (same submissionId, or the same content: see submissionId) answers **200** with the stored contact.',
            '- A mistake answers **400** naming the field (`message` missing, an unknown `formType`, a `submittedAt` without offset…), and nothing is stored.',
            `- A browser post (urlencoded with \`Accept: text/html\`) is answered like the public form: **303** to \`${SENT_PATH}\`, or the form again with the error.`,
            '',
            `The public form at \`${FORM_PATH}\` (no token, ${config.formPostsPerMinute} posts a minute per address, **403** for a post from another site's page) uses the same rules, plus a honeypot field (\`${HONEYPOT}\`): filled, the post is answered as received and nothing is stored. The token API has no honeypot: a real form's \`website\` field is just a field.`,
          ].join('\n'),
          consumes: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
          querystring: Type.Object({
            preset: Type.Optional(Type.String({ maxLength: 40, description: `A form builder: ${PRESETS.join(', ')}.` })),
            mapping: Type.Optional(Type.String({ maxLength: 64, description: 'A field mapping named in KEPT_WEBFORM_MAPPINGS.' })),
          access_token: Type.Optional(Type.String({ maxLength: 600, description: 'The API token, for a sender that cannot set the Authorization header (Typeform).' })),
          }),
          body: WebformBody,
          response: {
            201: ContactReply,
            200: Type.Union([ContactReply, Type.Object({ received: Type.Literal(true) })]),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => handle(request.body, reply, wantsPagesFromApi(request), false),
    );
  });

  const stylesheet = loadStylesheet();
  app.get(STYLESHEET_PATH, { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
    void reply.header('cache-control', STYLESHEET_CACHE).header('etag', stylesheet.etag).header('x-content-type-options', 'nosniff');
    const known = (request.headers['if-none-match'] ?? '').split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (known.includes(stylesheet.etag)) return reply.status(304).send();
    return reply.type('text/css; charset=utf-8').send(stylesheet.css);
  });

  // The public form in its own scope, so the rate-limit plugin (when this file has to register it)
  // reaches these routes and nothing else.
  await app.register(async (scope) => {
    await formRateLimit(scope);
    registerMultipart(scope, config.webform.bodyLimit, config.webform.maxFiles);
    const form = scope.withTypeProvider<TypeBoxTypeProvider>();
    form.get(
      FORM_PATH,
      { config: { access: 'public' }, schema: { hide: true, querystring: Type.Object({ sent: Type.Optional(Type.String({ maxLength: 10 })) }) } },
      async (request, reply) => sendPage(reply, 200, formPage({ sent: request.query.sent === '1', notice: await scope.publicNotice(service.now()) })),
    );
    // No body schema: a browser's mistakes are answered with the form and the error linked to its
    // field (submitWebform names it), which a schema's JSON 400 could not do.
    form.post(
      FORM_PATH,
      {
        config: { access: 'public', rateLimit: formPostRateLimit(config.formPostsPerMinute) },
        onRequest: sameOriginPosts(config.publicUrl),
        errorHandler: formErrorHandler,
        schema: { hide: true },
      },
      async (request, reply) => handle(postedFields(request.body), reply, wantsPagesFromForm(request), true),
    );
  });
}

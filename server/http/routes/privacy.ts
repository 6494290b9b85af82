// Tenants' personal data (issue 17), for admins only: find one person by a normalised key, export
// everything held on their contacts (JSON, or a printable HTML page), erase (anonymise) them with a
// reason and an approver, place and release legal holds, and the retention schedule's state. Every
// search, export and erasure is audited — by the contacts concerned and the kind of key searched,
// never the searched value (which is also never in a URL: searches and exports are POSTs).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { KEY_KINDS } from '../../privacy/keys.js';
import { exportHtml } from '../../privacy/present.js';
import type { RetentionJob } from '../../privacy/retention.js';
import { MAX_CONTACTS, type PrivacyService } from '../../privacy/service.js';
import type { AuditStorePort } from '../../store/ports.js';
import { actorOf } from '../access.js';

const ADMIN = { access: { roles: ['admin'] as const } };
const ContactIds = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: MAX_CONTACTS, description: 'The contacts (from a search).' });
const Text = (description: string) => Type.String({ minLength: 3, maxLength: 500, pattern: '\\S', description });

export interface PrivacyRouteOptions {
  privacy: PrivacyService;
  retention: RetentionJob;
  audit: AuditStorePort;
  now: () => number;
}

export function privacyRoutes(instance: FastifyInstance, { privacy, retention, audit, now }: PrivacyRouteOptions): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/privacy/search',
    {
      config: ADMIN,
      schema: {
        tags: ['privacy'],
        summary: "Find one person's contacts by email, phone (any format: 07700 900123 = +447700900123), name (whole or a word's beginning) or tenancy reference; audited",
        body: Type.Object(
          { kind: Type.Union(KEY_KINDS.map((k) => Type.Literal(k))), value: Type.String({ minLength: 1, maxLength: 320 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const items = await privacy.search(request.body);
      await audit.record(now(), actorOf(request), 'privacy.search', { kind: request.body.kind, matches: items.length, contactIds: items.map((i) => i.id) });
      void reply.header('cache-control', 'no-store');
      return { items };
    },
  );

  app.post(
    '/api/v1/privacy/export',
    {
      config: ADMIN,
      schema: {
        tags: ['privacy'],
        summary: 'Subject access export: everything held on these contacts (events, notes, deadlines and whether they were kept), as JSON or a printable HTML page; audited',
        body: Type.Object({ contactIds: ContactIds, format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('html')], { default: 'json' })) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const format = request.body.format ?? 'json';
      const by = actorOf(request);
      const x = await privacy.exportContacts(request.body.contactIds, by);
      await audit.record(now(), by, 'privacy.export', { format, contactIds: x.contacts.map((c) => c.id) });
      const stamp = x.generatedAt.slice(0, 10);
      void reply.header('cache-control', 'no-store');
      if (format === 'html') {
        void reply.header('content-disposition', `attachment; filename="subject-access-${stamp}.html"`);
        return reply.type('text/html; charset=utf-8').send(exportHtml(x));
      }
      void reply.header('content-disposition', `attachment; filename="subject-access-${stamp}.json"`);
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(x, null, 2));
    },
  );

  app.post(
    '/api/v1/privacy/erasures',
    {
      config: ADMIN,
      schema: {
        tags: ['privacy'],
        summary: 'Erase (anonymise) these contacts on request, with the reason and who approved it; 409 legal-hold while any is held (a hold, an open complaint, an unactioned safeguarding alert); audited',
        body: Type.Object(
          { contactIds: ContactIds, reason: Text('Why (the request and its date; not the person\'s name).'), approvedBy: Text('Who approved the erasure.') },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => privacy.erase({ ...request.body, actor: actorOf(request) }),
  );

  app.post(
    '/api/v1/privacy/holds',
    {
      config: ADMIN,
      schema: {
        tags: ['privacy'],
        summary: 'Place a legal hold on contacts (e.g. a complaint with the Housing Ombudsman): no erasure, no retention, until released; audited',
        body: Type.Object({ contactIds: ContactIds, reason: Text('Why the data must be kept.') }, { additionalProperties: false }),
      },
    },
    async (request, reply) => reply.status(201).send(await privacy.placeHold(request.body.contactIds, request.body.reason, actorOf(request))),
  );

  app.post(
    '/api/v1/privacy/holds/:id/release',
    { config: ADMIN, schema: { tags: ['privacy'], summary: 'Release a legal hold; audited', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } },
    async (request) => ({ released: (await privacy.releaseHold(request.params.id, actorOf(request))).released }),
  );

  const status = () => ({
    schedule: {
      contactMonths: retention.schedule.contactMonths,
      messageMonths: retention.schedule.messageMonths,
      auditMonths: retention.schedule.auditMonths,
      cron: retention.schedule.cron,
      batch: retention.schedule.batch,
    },
    running: retention.busy,
    last: retention.last,
  });

  app.get('/api/v1/privacy/retention', { config: ADMIN, schema: { tags: ['privacy'], summary: "The retention schedule and this process's last run" } }, async () => status());

  app.post(
    '/api/v1/privacy/retention/run',
    { config: ADMIN, schema: { tags: ['privacy'], summary: 'Apply the retention schedule now (as the daily job does); answers the run' } },
    async (request) => {
      await audit.record(now(), actorOf(request), 'privacy.retention.request', {});
      return { run: await retention.run('request') };
    },
  );
}

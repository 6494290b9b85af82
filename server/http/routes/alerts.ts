// Alert rules (issue 11): a team lead's conditions on the live state and where each is sent (email,
// Teams, Slack). Webhook addresses are secrets: checked against the allowed hosts, stored as given,
// answered masked, never logged or audited. Writes go through the writer (server/commands/).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AlertService } from '../../alerts/service.js';
import { checkWebhookUrl, maskUrl } from '../../alerts/webhooks.js';
import { PACKS } from '../../domain/standards.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import type { IngestService } from '../../ingest/service.js';
import { ALERT_KINDS, type AlertRule, type AlertRuleInput } from '../../store/alerts.js';
import { actorOf } from '../access.js';

const LEADS = { access: { roles: ['team-lead', 'manager'] as const } };
const STANDARDS = new Set(PACKS.flatMap((p) => p.standards.map((s) => s.id)));
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}$/;
const iso = (ms: number) => new Date(ms).toISOString();

const Url = Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]);
const RuleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    kind: Type.Union(ALERT_KINDS.map((k) => Type.Literal(k))),
    threshold: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000 }), Type.Null()], { description: 'calls-waiting: calls (alert above); oldest-wait: seconds (alert above); service-level: percent (alert under).' })),
    standards: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50, description: 'breach: the standards watched; empty or absent: every standard.' })),
    emails: Type.Optional(Type.Array(Type.String({ maxLength: 254 }), { maxItems: 20 })),
    teamsUrl: Type.Optional(Url),
    slackUrl: Type.Optional(Url),
    quietMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1440, description: 'After a send, later sends wait this long and go as one message (default 30).' })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
type RuleBodyT = Static<typeof RuleBody>;

export function alertRoutes(instance: FastifyInstance, service: IngestService, alerts: AlertService): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const store = service.stores.alerts;
  const policy = app.config.alertWebhooks;
  const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });

  const view = async (r: AlertRule) => ({
    id: r.id,
    name: r.name,
    kind: r.kind,
    threshold: r.threshold,
    standards: r.standards,
    emails: r.emails,
    teamsUrl: maskUrl(r.teamsUrl),
    slackUrl: maskUrl(r.slackUrl),
    quietMinutes: r.quietMinutes,
    enabled: r.enabled,
    createdBy: r.createdBy,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    lastSends: (await store.sendsOf(r.id, 5)).map((s) => ({ at: iso(s.at), subject: s.subject, events: s.keys.length, outcome: s.outcome })),
  });

  /** The body as a rule: every field checked and named; on an update, an absent webhook keeps the stored one. */
  const rule = (b: RuleBodyT, before?: AlertRule): AlertRuleInput => {
    const thresholdKind = b.kind === 'calls-waiting' || b.kind === 'oldest-wait' || b.kind === 'service-level';
    if (thresholdKind && (b.threshold === undefined || b.threshold === null)) throw new ValidationError('threshold', `is required for a ${b.kind} rule`, 'required');
    if (b.kind === 'service-level' && b.threshold! > 100) throw new ValidationError('threshold', 'is a percentage: 0 to 100', 'out-of-range');
    const standards = b.kind === 'breach' ? (b.standards ?? []) : [];
    standards.forEach((s, i) => {
      if (!STANDARDS.has(s)) throw new ValidationError(`standards/${i}`, 'is not a standard of any pack', 'unknown-standard');
    });
    const emails = (b.emails ?? []).map((e) => e.trim().toLowerCase());
    emails.forEach((e, i) => {
      if (!EMAIL.test(e)) throw new ValidationError(`emails/${i}`, 'must be an email address', 'bad-email');
    });
    const url = (field: 'teamsUrl' | 'slackUrl') => {
      const v = b[field];
      if (v === undefined) return before?.[field] ?? null;
      if (v === null || v.trim() === '') return null;
      return checkWebhookUrl(v.trim(), field, policy);
    };
    const teamsUrl = url('teamsUrl');
    const slackUrl = url('slackUrl');
    if (emails.length === 0 && teamsUrl === null && slackUrl === null) throw new ValidationError('emails', 'name at least one way to send the alert: emails, teamsUrl or slackUrl', 'no-channel');
    return { name: b.name.trim(), kind: b.kind, threshold: thresholdKind ? b.threshold! : null, standards, emails: [...new Set(emails)], teamsUrl, slackUrl, quietMinutes: b.quietMinutes ?? before?.quietMinutes ?? 30, enabled: b.enabled ?? before?.enabled ?? true };
  };
  const mustFind = async (id: number) => {
    const r = await store.rule(id);
    if (r === undefined) throw new NotFoundError(`no alert rule ${id}`, 'id');
    return r;
  };

  app.get('/api/v1/alert-rules', { config: LEADS, schema: { tags: ['alerts'], summary: 'Alert rules (webhook addresses masked) with their latest sends' } }, async () => ({ items: await Promise.all((await store.rules()).map(view)) }));

  app.post('/api/v1/alert-rules', { config: LEADS, schema: { tags: ['alerts'], summary: 'Create an alert rule', body: RuleBody } }, async (request, reply) => {
    const { id } = await service.writer.run('save-alert-rule', { now: service.now(), actor: actorOf(request), rule: rule(request.body) });
    return reply.status(201).send(await view(await mustFind(id)));
  });

  app.put('/api/v1/alert-rules/:id', { config: LEADS, schema: { tags: ['alerts'], summary: 'Replace an alert rule (an absent webhook keeps the stored one; null removes it)', params: Id, body: RuleBody } }, async (request) => {
    const before = await mustFind(request.params.id);
    await service.writer.run('save-alert-rule', { now: service.now(), actor: actorOf(request), id: before.id, rule: rule(request.body, before) });
    return view(await mustFind(before.id));
  });

  app.delete('/api/v1/alert-rules/:id', { config: LEADS, schema: { tags: ['alerts'], summary: 'Delete an alert rule', params: Id } }, async (request, reply) => {
    await service.writer.run('delete-alert-rule', { now: service.now(), actor: actorOf(request), id: request.params.id });
    return reply.status(204).send();
  });

  app.get(
    '/api/v1/alert-rules/:id/sends',
    { config: LEADS, schema: { tags: ['alerts'], summary: "An alert rule's sends, newest first (each channel's outcome)", params: Id, querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }) } },
    async (request) => ({
      items: (await store.sendsOf((await mustFind(request.params.id)).id, request.query.limit ?? 50)).map((s) => ({ at: iso(s.at), subject: s.subject, keys: s.keys, outcome: s.outcome })),
    }),
  );

  app.post('/api/v1/alert-rules/:id/test', { config: LEADS, schema: { tags: ['alerts'], summary: 'Send a test message on every channel of a rule now (outside its quiet period; recorded as a send)', params: Id } }, async (request) => {
    const r = await mustFind(request.params.id);
    const sent = await alerts.send(r, { title: `Kept alert — ${r.name}: a test`, lines: [`A test sent by ${actorOf(request)}: this rule's alerts arrive here.`], link: null }, ['test'], service.now());
    return { outcome: sent.outcome };
  });
}

// The people's routes (issue 10): an advisor's queue in due order, the team lead's load and unassigned
// work, actions on a contact (each an event through the service, as the API's), the contact page's read
// and safeguarding alerts; and the web app's own pages (/queue, /team, /contacts/:id, /sign-in).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Type } from 'typebox';
import { explainClock } from '../../domain/explain.js';
import { CANCEL_REASONS } from '../../domain/model.js';
import { packsInForce, standardOf } from '../../domain/packs/in-force.js';
import { ForbiddenError, NotFoundError, ConflictError, ValidationError } from '../../errors.js';
import type { IngestService } from '../../ingest/service.js';
import type { ContactRow } from '../../store/contacts.js';
import type { AlertRow } from '../../store/queue.js';
import { viewOf } from '../../readers/views.js';
import { errorResponses } from '../schemas.js';
import { explainJson, sendJsonText } from './contacts.js';
import { TeamLoad } from '../../people/team-load.js';

/** Who is asking: a person, or an integration's token (no email: it names an assignee itself). */
type Caller = { kind: 'person'; email: string; role: string; queues: readonly string[] | null } | { kind: 'token'; name: string };

async function callerOf(request: FastifyRequest): Promise<Caller> {
  const user = request.user;
  if (user !== undefined) {
    // An advisor's queues (routes or categories) are on their account; others see every queue.
    const queues = user.role !== 'advisor' ? null : ((await request.server.people.byId(user.id))?.queues ?? []);
    return { kind: 'person', email: user.email, role: user.role, queues };
  }
  return { kind: 'token', name: request.tokenName ?? 'unknown' };
}

const actorOf = (c: Caller) => (c.kind === 'person' ? c.email : `token:${c.name}`);
const isAdvisor = (c: Caller) => c.kind === 'person' && c.role === 'advisor';

/** The queues whose unassigned work the caller sees: an advisor's own, or null for every queue. */
const queuesOf = (c: Caller): readonly string[] | null => (c.kind === 'person' ? c.queues : null);

/**
 * An advisor may read and act on their own contacts and the unassigned ones of the queues they work
 * (a route or category on their account); everyone else who reaches the route, any.
 */
function mayTouch(c: Caller, row: ContactRow): boolean {
  if (c.kind !== 'person' || c.role !== 'advisor') return true;
  if (row.assignee !== null) return row.assignee === c.email;
  return c.queues !== null && (c.queues.includes(row.route) || c.queues.includes(row.category));
}

/** Complaint references: `CMP-2026-000123`, a sequence per calendar year (Europe/London's year is the UTC one but for an hour). */
export const COMPLAINT_PREFIX = 'CMP';

export const ACTIONS = ['replied', 'acknowledge', 'resolved', 'pause', 'resume', 'extend', 'identity-verified', 'assign', 'take', 'cancel', 'flag', 'confirm-hazard', 'dismiss-hazard'] as const;

const ActionBody = Type.Object(
  {
    action: Type.Union(ACTIONS.map((a) => Type.Literal(a)), { description: 'What the person did.' }),
    clock: Type.Optional(Type.String({ maxLength: 100, description: 'pause, resume, extend: the standard (default: the contact\'s last open clock).' })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'pause (required), resume, extend; cancel: spam, duplicate or withdrawn.' })),
    until: Type.Optional(Type.String({ description: 'extend: the agreed date, ISO-8601 with an offset.' })),
    assignee: Type.Optional(Type.String({ minLength: 3, maxLength: 320, description: 'assign: the colleague\'s email.' })),
    note: Type.Optional(Type.String({ maxLength: 1000, description: 'flag: what the concern is.' })),
    category: Type.Optional(Type.Union([Type.Literal('hazard-emergency'), Type.Literal('hazard-significant')], { description: "confirm-hazard (Awaab's Law): the severity the advisor confirms. Raising hazard-significant to hazard-emergency records severity-raised (the emergency clocks run from now)." })),
  },
  { additionalProperties: false },
);

const QueueQuery = Type.Object(
  {
    assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: 'An advisor\'s email, or `unassigned`. Advisors: their own only.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 200 })),
  },
  { additionalProperties: false },
);

const Item = Type.Object({}, { additionalProperties: true });

function alertJson(a: AlertRow) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return { ...a, raisedAt: iso(a.raisedAt), actionedAt: iso(a.actionedAt) };
}

/** The paths the web app routes in the browser: each answers the same index.html (it holds no data). */
export const PAGES = ['/queue', '/team', '/reports', '/privacy', '/settings', '/sign-in', '/contacts/:id'] as const;

export function queueRoutes(instance: FastifyInstance, service: IngestService, options: { webRoot: string }): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
  // The team's load in memory, kept by every committed change (read from the store on first use).
  const team = new TeamLoad(() => service.queue.openClockOwners());
  const unsubscribe = service.onChange((changes) => team.apply(changes));
  instance.addHook('onClose', async () => unsubscribe());

  const reads = instance.reads;

  app.get(
    '/api/v1/queue',
    {
      config: { access: { roles: ['advisor', 'team-lead', 'manager'], token: true } },
      schema: {
        tags: ['people'],
        summary: 'A queue in due order: an advisor\'s open contacts, and the unassigned work of their queues',
        description:
          'An advisor sees their own open contacts (earliest due open clock first) and the unassigned contacts they may take. A team lead or manager names `?assignee=` (an email or `unassigned`); an integration token must.',
        querystring: QueueQuery,
        response: { 200: Type.Object({ assignee: Type.Union([Type.String(), Type.Null()]), items: Type.Array(Item), unassigned: Type.Array(Item) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request);
      const limit = request.query.limit ?? 200;
      const now = service.now();
      let assignee = request.query.assignee;
      if (isAdvisor(caller) && assignee !== undefined && assignee !== (caller as { email: string }).email) {
        throw new ForbiddenError('an advisor sees their own queue only', 'assignee');
      }
      if (assignee === undefined) {
        if (caller.kind === 'token') throw new ValidationError('assignee', 'is required with an API token (an advisor\'s email, or unassigned)', 'required');
        assignee = caller.email;
      }
      const queues = queuesOf(caller);
      // One round trip: the assignee's open contacts and the unassigned work, presented by the reader
      // thread as JSON text (the route's schema gives the same text), sent as it is.
      if (assignee === 'unassigned') {
        const page = await reads.views.queue({ assignee: null, limit, unassignedLimit: limit, queues, now });
        return sendJsonText(reply, `{"assignee":null,"items":${page.unassigned},"unassigned":[]}`);
      }
      const page = await reads.views.queue({ assignee, limit, unassignedLimit: Math.min(limit, 50), queues, now });
      return sendJsonText(reply, `{"assignee":${JSON.stringify(assignee)},"items":${page.items!},"unassigned":${page.unassigned}}`);
    },
  );

  app.get(
    '/api/v1/team',
    {
      config: { access: { roles: ['team-lead', 'manager'], token: true } },
      schema: {
        tags: ['people'],
        summary: 'Each advisor\'s load, at-risk and breached contacts; the unassigned work; open safeguarding alerts',
        response: {
          200: Type.Object({
            advisors: Type.Array(Type.Object({ assignee: Type.String(), open: Type.Integer(), atRisk: Type.Integer(), breached: Type.Integer() })),
            unassigned: Type.Object({ open: Type.Integer(), atRisk: Type.Integer(), breached: Type.Integer() }),
            alerts: Type.Integer(),
          }),
          ...errorResponses,
        },
      },
    },
    async () => {
      const [load, people, alerts] = await Promise.all([team.load(service.now()), instance.people.list(), reads.queue.openAlerts()]);
      const none = load.find((l) => l.assignee === null);
      const advisors = new Map(load.filter((l) => l.assignee !== null).map((l) => [l.assignee!, { ...l, assignee: l.assignee! }]));
      // Every advisor with an account, idle ones too (assignees without an account are listed as well).
      for (const p of people) {
        if (p.role === 'advisor' && !p.disabled && !advisors.has(p.email)) advisors.set(p.email, { assignee: p.email, open: 0, atRisk: 0, breached: 0 });
      }
      return {
        advisors: [...advisors.values()].sort((a, b) => a.assignee.localeCompare(b.assignee)),
        unassigned: { open: none?.open ?? 0, atRisk: none?.atRisk ?? 0, breached: none?.breached ?? 0 },
        alerts: alerts.length,
      };
    },
  );

  app.get(
    '/api/v1/contacts/:id/page',
    {
      config: { access: { roles: ['advisor', 'team-lead', 'manager'], token: true } },
      schema: {
        tags: ['people'],
        summary: 'The contact page: the contact, its events and clocks, each clock explained, and its safeguarding alerts',
        params: IdParams,
        response: {
          200: Type.Object({
            contact: Item,
            alerts: Type.Array(Item),
            explanations: Type.Record(Type.String(), Item),
            rules: Type.Record(Type.String(), Type.Object({ pausable: Type.Boolean(), extendable: Type.Boolean() }), {
              description: "Per clock, from the standard it started under: whether it may be paused or extended (the page offers only what the pack allows).",
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request);
      const { id } = request.params;
      const now = service.now();
      const parts = await reads.queue.contactPage(id);
      const row = parts?.row;
      // An advisor is told "not found" for another advisor's contact: its existence is not theirs to know.
      if (parts === undefined || row === undefined || !mayTouch(caller, row)) throw new NotFoundError(`no contact with id "${id}"`);
      const contact = viewOf(parts, service.calendars, now);
      const explanations: Record<string, ReturnType<typeof explainJson>> = {};
      for (const c of parts.clocks) explanations[c.standard] = explainJson(explainClock(service.asOf(c.detail, now), service.calendars, now));
      const packs = packsInForce(row.packFamily, row.receivedAt);
      const rules: Record<string, { pausable: boolean; extendable: boolean }> = {};
      for (const c of contact.clocks) {
        const def = standardOf(packs, c.standard);
        rules[c.standard] = { pausable: def?.pausable === true, extendable: def?.extendable === true };
      }
      return { contact, alerts: parts.alerts.map(alertJson), explanations, rules };
    },
  );

  app.post(
    '/api/v1/contacts/:id/actions',
    {
      config: { access: { roles: ['advisor', 'team-lead'], token: true } },
      schema: {
        tags: ['people'],
        summary: 'A person\'s action on a contact, recorded as its event (replied, acknowledge, resolved, pause, resume, extend, identity-verified, assign, take, cancel, flag, confirm-hazard, dismiss-hazard)',
        description:
          'acknowledge issues the complaint reference (CMP-YYYY-NNNNNN) and records the caller as its named owner; flag raises a safeguarding alert for team leads; confirm-hazard (with category) confirms an Awaab\'s Law hazard (recategorised, or severity-raised from hazard-significant to hazard-emergency), audited with who and when; dismiss-hazard records that the suggested hazard is not one (optional reason). An advisor may act on their own contacts and unassigned ones, and may not assign work to someone else except by transfer of their own.',
        params: IdParams,
        body: ActionBody,
        response: { 200: Type.Object({ added: Type.Integer(), reference: Type.Union([Type.String(), Type.Null()]), alertId: Type.Union([Type.Integer(), Type.Null()]), contact: Item }), ...errorResponses },
      },
    },
    async (request) => {
      const caller = await callerOf(request);
      const { id } = request.params;
      const row = await service.contacts.byId(id);
      if (row === undefined || !mayTouch(caller, row)) throw new NotFoundError(`no contact with id "${id}"`);
      return act(service, caller, row, request.body);
    },
  );

  app.post(
    '/api/v1/assignments',
    {
      config: { access: { roles: ['team-lead'], token: true } },
      schema: {
        tags: ['people'],
        summary: 'Assign or reassign many contacts to one advisor (or take them back: assignee null is not allowed; assign to a colleague)',
        body: Type.Object({ contactIds: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 500 }), assignee: Type.String({ minLength: 3, maxLength: 320 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ assigned: Type.Array(Type.String()) }), ...errorResponses },
      },
    },
    async (request) => {
      const caller = await callerOf(request);
      const { contactIds, assignee } = request.body;
      const rows = await service.contacts.byIds([...new Set(contactIds)]);
      const missing = contactIds.find((id) => !rows.some((r) => r.id === id));
      if (missing !== undefined) throw new NotFoundError(`no contact with id "${missing}"`, 'contactIds');
      // Queued in one turn: the writer commits them together, a savepoint each.
      await Promise.all(rows.map((row) => act(service, caller, row, { action: 'assign', assignee })));
      return { assigned: rows.map((r) => r.id) };
    },
  );

  app.get(
    '/api/v1/alerts',
    {
      config: { access: { roles: ['team-lead', 'manager'], token: true } },
      schema: {
        tags: ['people'],
        summary: 'Open safeguarding alerts, oldest first: each stays until someone records an action',
        response: { 200: Type.Object({ items: Type.Array(Item) }), ...errorResponses },
      },
    },
    async () => {
      const { alerts: open, contacts: rows } = await reads.queue.alertsWithContacts();
      const contacts = new Map(rows.map((r) => [r.id, r]));
      return {
        items: open.map((a) => {
          const c = contacts.get(a.contactId);
          return { ...alertJson(a), contact: c === undefined ? null : { id: c.id, subject: c.subject, customerName: c.customer?.name ?? null, assignee: c.assignee, category: c.category, channel: c.channel } };
        }),
      };
    },
  );

  app.post(
    '/api/v1/alerts/:id/actions',
    {
      config: { access: { roles: ['team-lead', 'manager'], token: true } },
      schema: {
        tags: ['people'],
        summary: 'Record the action taken on a safeguarding alert (who and when are the caller and now)',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        body: Type.Object({ action: Type.String({ minLength: 3, maxLength: 2000 }) }, { additionalProperties: false }),
        response: { 200: Item, ...errorResponses },
      },
    },
    async (request) => {
      const caller = await callerOf(request);
      const { id } = request.params;
      if ((await service.queue.alert(id)) === undefined) throw new NotFoundError(`no alert ${id}`);
      const { recorded } = await service.alertAction(id, actorOf(caller), request.body.action.trim());
      if (!recorded) throw new ConflictError(`alert ${id} already has an action recorded`);
      return alertJson((await service.queue.alert(id))!);
    },
  );

  // The web app's pages: the same index.html for each (the browser's router picks the page).
  const webRoot = resolve(options.webRoot);
  let html: Promise<string> | null = null;
  for (const url of PAGES) {
    app.get(url, { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
      html ??= readFile(resolve(webRoot, 'index.html'), 'utf8').catch((e: unknown) => {
        html = null;
        throw e;
      });
      try {
        return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(await html);
      } catch {
        throw new NotFoundError('the web app is not built (npm run build)');
      }
    });
  }
}

type ActionBodyT = { action: (typeof ACTIONS)[number]; clock?: string; reason?: string; until?: string; assignee?: string; note?: string; category?: 'hazard-emergency' | 'hazard-significant' };

/** One action → its event(s), checked, through the service. */
async function act(service: IngestService, caller: Caller, row: ContactRow, body: ActionBodyT) {
  const actor = actorOf(caller);
  const at = new Date(service.now()).toISOString();
  const openClocks = (await service.contacts.clocks(row.id)).filter((c) => c.open);
  const clockFor = (want: (status: string) => boolean, what: string): string => {
    if (body.clock !== undefined) {
      if (!openClocks.some((c) => c.standard === body.clock)) throw new ValidationError('clock', `"${body.clock}" is not an open clock of this contact`);
      return body.clock;
    }
    // Without a name, the last open clock (the pack lists the long resolve clocks after the replies, and those are the pausable ones).
    const c = [...openClocks].reverse().find((k) => want(k.status));
    if (c === undefined) throw new ValidationError('clock', `this contact has no clock to ${what}`, 'required');
    return c.standard;
  };
  const base = { at, by: actor };
  const one = (event: Record<string, unknown>, extra: { issueReference?: { prefix: string; year: number }; alert?: { kind: string; note: string | null }; auditDetail?: Record<string, unknown> } = {}) =>
    service.contactAction({ contactId: row.id, actor, action: body.action, events: [{ ...base, ...event }], ...extra });
  switch (body.action) {
    case 'replied':
    case 'resolved':
    case 'identity-verified':
      return one({ type: body.action });
    case 'acknowledge':
      // The reference is issued in the writer's transaction; the caller is the complaint's named owner.
      return one({ type: 'acknowledged', reference: 'issued-by-kept', owner: actor }, { issueReference: { prefix: COMPLAINT_PREFIX, year: new Date(service.now()).getUTCFullYear() } });
    case 'pause':
      if (body.reason === undefined) throw new ValidationError('reason', 'is required to pause a clock', 'required');
      return one({ type: 'paused', clock: clockFor((s) => s !== 'paused', 'pause'), reason: body.reason });
    case 'resume':
      return one({ type: 'resumed', clock: clockFor((s) => s === 'paused', 'resume'), ...(body.reason !== undefined ? { reason: body.reason } : {}) });
    case 'extend':
      if (body.until === undefined) throw new ValidationError('until', 'is required: the agreed date', 'required');
      return one({ type: 'extended', clock: clockFor(() => true, 'extend'), until: body.until, ...(body.reason !== undefined ? { reason: body.reason } : {}) });
    case 'take':
      if (caller.kind !== 'person') throw new ValidationError('action', 'take needs a signed-in person: use assign with an assignee');
      if (row.assignee !== null && row.assignee !== caller.email) throw new ConflictError(`contact "${row.id}" is assigned to someone else`);
      return one({ type: 'assigned', assignee: caller.email });
    case 'assign': {
      if (body.assignee === undefined) throw new ValidationError('assignee', 'is required: the colleague\'s email', 'required');
      // An advisor transfers their own work; taking unassigned work is `take`.
      if (isAdvisor(caller) && row.assignee !== (caller as { email: string }).email) throw new ForbiddenError('an advisor transfers only contacts assigned to them', 'assignee');
      return one({ type: 'assigned', assignee: body.assignee.trim().toLowerCase() });
    }
    case 'cancel':
      if (body.reason === undefined || !(CANCEL_REASONS as readonly string[]).includes(body.reason)) {
        throw new ValidationError('reason', `must be one of ${CANCEL_REASONS.join(', ')}`, 'required');
      }
      return one({ type: 'cancelled', reason: body.reason });
    case 'flag':
      return service.contactAction({ contactId: row.id, actor, action: 'flag', events: [], alert: { kind: 'safeguarding', note: body.note ?? null } });
    case 'confirm-hazard': {
      // Awaab's Law: the advisor confirms (or sets) the hazard and its severity; audited with who and when.
      if (body.category === undefined) throw new ValidationError('category', 'is required: hazard-emergency or hazard-significant', 'required');
      if (row.category === body.category) throw new ConflictError(`contact "${row.id}" is already ${body.category}`);
      const suggestion = (await service.view(row.id))?.hazardSuggestion ?? null;
      const auditDetail = { category: body.category, from: row.category, suggested: suggestion === null ? null : { category: suggestion.category, hazard: suggestion.hazard } };
      // Raising a significant hazard to an emergency: the landlord learns it now, so the emergency clocks run from now.
      if (row.category === 'hazard-significant' && body.category === 'hazard-emergency') {
        return one({ type: 'severity-raised', ...(body.reason !== undefined ? { reason: body.reason } : {}) }, { auditDetail });
      }
      return one({ type: 'recategorised', category: body.category }, { auditDetail });
    }
    case 'dismiss-hazard': {
      const suggestion = (await service.view(row.id))?.hazardSuggestion ?? null;
      if (suggestion === null) throw new ConflictError(`contact "${row.id}" has no hazard suggestion to dismiss`);
      return one({ type: 'hazard-dismissed', ...(body.reason !== undefined ? { reason: body.reason } : {}) }, { auditDetail: { suggested: { category: suggestion.category, hazard: suggestion.hazard } } });
    }
  }
}

// The weekly SLA report (issue 16): one week as JSON or RFC 4180 CSV, publishing and regenerating a
// week (through the writer, audited), the twelve-week trend, and the regulator's view (TSM CH01/CH02)
// for any period. Managers, team leads and admins; integrations (API token) may read.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ValidationError } from '../../errors.js';
import { MAX_TREND_WEEKS, type ReportService } from '../../reports/service.js';
import { COMPLAINT_FIGURES, MAX_LIMIT, OUTCOMES, parseFilter, PHONE_FIGURES } from '../../reports/contacts.js';
import type { PublishedWeek } from '../../reports/types.js';
import { isoWeekBounds, isoWeekOf, previousIsoWeek } from '../../reports/week.js';
import { actorOf, type Access } from '../access.js';
import { errorResponses } from '../schemas.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The weekly report (server/reports/service.ts): the routes below and the Monday job use it. */
    reports: ReportService;
  }
}

const READ: Access = { roles: ['team-lead', 'manager', 'admin'], token: true };
const WRITE: Access = { roles: ['team-lead', 'manager', 'admin'] };

const Week = Type.Object({ week: Type.String({ maxLength: 40, description: 'An ISO week, `2026-W10` (Monday 00:00 to Sunday 24:00 Europe/London).' }) });
const AnyJson = Type.Object({}, { additionalProperties: true });

/** A stored publication as the API answers it: instants as ISO-8601 (STANDARDS §1). */
const asJson = (p: PublishedWeek) => ({ ...p, publishedAt: new Date(p.publishedAt).toISOString() });

/** CSV when asked for by `?format=csv` or an Accept header that prefers text/csv to JSON. */
function wantsCsv(request: FastifyRequest, format: string | undefined): boolean {
  if (format !== undefined) {
    if (format !== 'csv' && format !== 'json') throw new ValidationError('format', 'csv or json');
    return format === 'csv';
  }
  const accept = request.headers.accept ?? '';
  return /(^|,)\s*text\/csv/i.test(accept) && !/(^|,)\s*application\/json/i.test(accept);
}

export function reportRoutes(instance: FastifyInstance, reports: ReportService): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const check = (week: string) => isoWeekBounds(week).week;

  app.get(
    '/api/v1/reports/weekly/:week',
    {
      config: { access: READ },
      schema: {
        tags: ['reports'],
        summary: 'One ISO week: by standard and channel, phone, complaints, hazards (Awaab\'s Law), people, worst breaches (JSON, or CSV with Accept: text/csv or ?format=csv)',
        description:
          'From the clocks that started in the week, each judged by the standard version it started under; running clocks judged as of `builtAt`. A published week answers as published (`publication.state`); `?draft=true` builds it afresh. Rates are fractions 0–1, null where there is nothing to divide. Definitions: docs/standards.md.',
        params: Week,
        querystring: Type.Object({ format: Type.Optional(Type.String({ maxLength: 10 })), draft: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: Type.Unknown({ description: 'The report (JSON), or its CSV (text/csv).' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const week = check(request.params.week);
      const csv = wantsCsv(request, request.query.format);
      const report = await (request.query.draft === true ? reports.build(week) : reports.weekly(week));
      if (!csv) return report;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="kept-${week}.csv"`)
        .send(reports.csv(report));
    },
  );

  app.get(
    '/api/v1/reports/weekly/:week/contacts',
    {
      config: { access: READ },
      schema: {
        tags: ['reports'],
        summary: 'The contacts behind one figure of the week (a standards, phone, complaints, advisor or team cell), paged by a keyed cursor',
        description:
          'Built from the same clocks (those that started in the week) and the same rules as the figure, judged as of the report’s `builtAt` (a published week) or now (a draft): `total` equals the figure. ' +
          '`standard`, `channel`, `advisor` (email or `unassigned`) and `team` (queue, `unassigned` or `no team`) narrow; `outcome` is `all` (the Clocks column) or one or more, comma-separated, of ' +
          `${OUTCOMES.join(', ')}; \`phone\` is one of ${Object.keys(PHONE_FIGURES).join(', ')} (the phone table’s counts); \`complaint\` is one of ${Object.keys(COMPLAINT_FIGURES).join(', ')} (the complaints section's). Ordered by the clock’s start; \`next\` is the cursor of the following page. How each figure maps: docs/standards.md.`,
        params: Week,
        querystring: Type.Object(
          {
            standard: Type.Optional(Type.String({ maxLength: 100 })),
            channel: Type.Optional(Type.String({ maxLength: 40 })),
            outcome: Type.Optional(Type.String({ maxLength: 200 })),
            phone: Type.Optional(Type.String({ maxLength: 40 })),
            complaint: Type.Optional(Type.String({ maxLength: 40 })),
            advisor: Type.Optional(Type.String({ maxLength: 320 })),
            team: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.String({ maxLength: 4 })),
            cursor: Type.Optional(Type.String({ maxLength: 600 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: AnyJson, ...errorResponses },
      },
    },
    async (request) => {
      const week = check(request.params.week);
      const q = request.query;
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new ValidationError('limit', `a whole number from 1 to ${MAX_LIMIT}`);
      const filter = parseFilter(q);
      return reports.contacts(week, filter, q.cursor === undefined ? { limit } : { limit, cursor: q.cursor });
    },
  );

  app.post(
    '/api/v1/reports/weekly/:week/publish',
    {
      config: { access: WRITE },
      schema: {
        tags: ['reports'],
        summary: 'Publish a week: its report is built and stored as published (409 if it already is: regenerate instead); audited',
        params: Week,
        body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })),
        response: { 201: AnyJson, ...errorResponses },
      },
    },
    async (request, reply) => {
      const week = check(request.params.week);
      const reason = request.body?.reason;
      const published = await reports.publishWeek(week, actorOf(request), reason === undefined ? {} : { reason });
      return reply.code(201).send(asJson(published));
    },
  );

  app.post(
    '/api/v1/reports/weekly/:week/regenerate',
    {
      config: { access: WRITE },
      schema: {
        tags: ['reports'],
        summary: 'Publish a published week again from today’s data: a new revision, recording what changed, who asked and why (404 if never published)',
        params: Week,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why it is regenerated (kept in the audit trail).' }) }, { additionalProperties: false }),
        response: { 201: AnyJson, ...errorResponses },
      },
    },
    async (request, reply) => {
      const week = check(request.params.week);
      const reason = request.body.reason.trim();
      if (reason === '') throw new ValidationError('reason', 'say why the week is regenerated');
      const out = await reports.regenerateWeek(week, actorOf(request), reason);
      return reply.code(201).send({ published: asJson(out.published), changes: out.changes });
    },
  );

  app.get(
    '/api/v1/reports/trend',
    {
      config: { access: READ },
      schema: {
        tags: ['reports'],
        summary: 'The headline figures of each week up to `to` (default: last week), oldest first',
        querystring: Type.Object(
          { weeks: Type.Optional(Type.String({ maxLength: 4 })), to: Type.Optional(Type.String({ maxLength: 40 })) },
          { additionalProperties: false },
        ),
        response: { 200: AnyJson, ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const weeks = q.weeks === undefined ? 12 : Number(q.weeks);
      if (!Number.isInteger(weeks) || weeks < 1 || weeks > MAX_TREND_WEEKS) throw new ValidationError('weeks', `a whole number from 1 to ${MAX_TREND_WEEKS}`);
      const to = q.to === undefined ? previousIsoWeek(isoWeekOf(reports.now())) : isoWeekBounds(q.to, undefined, 'to').week;
      return reports.trend(to, weeks);
    },
  );

  app.get(
    '/api/v1/reports/regulator',
    {
      config: { access: READ },
      schema: {
        tags: ['reports'],
        summary: "The regulator's view of a period: TSM CH01 (complaints per 1,000 homes) and CH02 (responded to within the Housing Ombudsman Code's timescales)",
        description: 'Local dates, both included (`from=2025-04-01&to=2026-03-31`). Computed with the housing-ombudsman-2024 pack from the stored events; which events count: docs/standards.md.',
        querystring: Type.Object({ from: Type.String({ maxLength: 20 }), to: Type.String({ maxLength: 20 }) }, { additionalProperties: false }),
        response: { 200: AnyJson, ...errorResponses },
      },
    },
    async (request) => reports.regulator(request.query.from, request.query.to),
  );
}

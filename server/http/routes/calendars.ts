// Calendars: read them; import GOV.UK holidays; add and remove closures (running clocks recomputed).
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { DIVISIONS, holidaysFromGovUk } from '../../domain/holidays.js';
import { InstantError, parseInstant } from '../../domain/time.js';
import { NotFoundError, type IngestService } from '../../ingest/service.js';
import { HttpError } from '../errors.js';
import { errorResponses } from '../schemas.js';

const Recomputed = { recomputedContacts: Type.Integer(), movedClocks: Type.Integer() };

export function calendarRoutes(app: FastifyInstance, service: IngestService): void {
  const describe = (id: string) => {
    const row = service.calendarStore.byId(id);
    if (row === undefined) throw new NotFoundError(`no calendar "${id}"`);
    const cal = service.calendars[id]!;
    const now = service.now();
    const holidays = service.calendarStore.holidays(row.division);
    return {
      id: row.id,
      name: row.name,
      timeZone: row.timeZone,
      weeklyHours: row.weeklyHours,
      division: row.division,
      workingDayMs: row.workingDayMs,
      holidays: holidays === null ? null : { coveredFrom: holidays.coveredFrom, coveredTo: holidays.coveredTo, dates: holidays.holidays },
      holidaysKnownNow: cal.holidaysKnownAt(now),
      closures: service.calendarStore.closures(id).map((c) => ({ id: c.id, from: new Date(c.from).toISOString(), to: new Date(c.to).toISOString(), reason: c.reason })),
      openNow: cal.isOpen(now),
      nextOpening: new Date(cal.nextOpening(now)).toISOString(),
      updatedAt: new Date(row.updatedAt).toISOString(),
    };
  };

  app.get('/api/v1/calendars', { schema: { tags: ['calendars'], summary: 'Every calendar' } }, async () => ({
    items: service.calendarStore.all().map((c) => describe(c.id)),
  }));

  app.get(
    '/api/v1/calendars/:id',
    { schema: { tags: ['calendars'], summary: 'One calendar: hours, holidays, closures, open now', params: Type.Object({ id: Type.String() }), response: { ...errorResponses } } },
    async (request) => describe((request.params as { id: string }).id),
  );

  app.post(
    '/api/v1/calendars/:id/closures',
    {
      schema: {
        tags: ['calendars'],
        summary: 'Add a closure (whole or part days); running clocks are recomputed in the same transaction',
        params: Type.Object({ id: Type.String() }),
        body: Type.Object(
          {
            from: Type.String({ description: 'ISO-8601 with offset' }),
            to: Type.String({ description: 'ISO-8601 with offset, after from' }),
            reason: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ id: Type.Integer(), ...Recomputed }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const body = request.body as { from: string; to: string; reason?: string };
      const instant = (v: string, field: string) => {
        try {
          return parseInstant(v);
        } catch (e) {
          throw new HttpError(400, `${field}: ${(e as InstantError).message}`, field);
        }
      };
      const from = instant(body.from, 'from');
      const to = instant(body.to, 'to');
      if (to <= from) throw new HttpError(400, 'to: must be after from', 'to');
      const result = await service.addClosure(id, { from, to, ...(body.reason ? { reason: body.reason } : {}) }, request.tokenName ?? 'api');
      return reply.status(201).send(result);
    },
  );

  app.delete(
    '/api/v1/calendars/:id/closures/:closureId',
    {
      schema: {
        tags: ['calendars'],
        summary: 'Remove a closure; running clocks are recomputed',
        params: Type.Object({ id: Type.String(), closureId: Type.Integer() }),
        response: { 200: Type.Object(Recomputed), ...errorResponses },
      },
    },
    async (request) => {
      const { id, closureId } = request.params as { id: string; closureId: number };
      return service.removeClosure(id, closureId, request.tokenName ?? 'api');
    },
  );

  app.post(
    '/api/v1/holidays/import',
    {
      bodyLimit: 5 * 1024 * 1024,
      schema: {
        tags: ['calendars'],
        summary: 'Import bank holidays from a GOV.UK-format bank-holidays.json',
        description: 'Every division in the file (or only ?division=) replaces the stored list; calendars using it have their running clocks recomputed.',
        querystring: Type.Object({ division: Type.Optional(Type.Union(DIVISIONS.map((d) => Type.Literal(d)))) }),
        body: Type.Object({}, { additionalProperties: true }),
      },
    },
    async (request) => {
      const doc = request.body as Record<string, unknown>;
      const { division } = request.query as { division?: string };
      const divisions = division !== undefined ? [division] : DIVISIONS.filter((d) => d in doc);
      if (divisions.length === 0) throw new HttpError(400, `body: no GOV.UK division found (expected keys ${DIVISIONS.join(', ')})`, 'body');
      const lists = divisions.map((d) => holidaysFromGovUk(doc, d)); // validate all before changing any
      const results = [];
      for (const list of lists) results.push({ division: list.division, ...(await service.importHolidays(list, request.tokenName ?? 'api')) });
      return { divisions: results };
    },
  );

  app.get('/api/v1/audit', { schema: { tags: ['calendars'], summary: 'Recent audit entries (calendar edits and their recomputes)' } }, async () => ({
    items: service.audit.recent().map((a) => ({ ...a, at: new Date(a.at).toISOString() })),
  }));
}

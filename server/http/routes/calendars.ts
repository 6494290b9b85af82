// Calendars: read them; import GOV.UK holidays; add and remove closures (running clocks recomputed).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { DIVISIONS, holidayListsFromGovUk } from '../../domain/holidays.js';
import { InstantError, parseInstant } from '../../domain/time.js';
import { NotFoundError, type IngestService } from '../../ingest/service.js';
import { ValidationError } from '../../errors.js';
import type { CalendarRow } from '../../store/calendars.js';
import { actorOf } from '../access.js';
import { errorResponses } from '../schemas.js';

const Recomputed = {
  recomputedContacts: Type.Integer({ description: 'Contacts recomputed: those with an open clock on the calendar due after the edit starts (or paused); clocks due earlier cannot move.' }),
  movedClocks: Type.Integer({ description: 'Clocks whose due instant moved.' }),
};

export function calendarRoutes(instance: FastifyInstance, service: IngestService): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const CalendarParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
  // A calendar as stored (its row, holidays and closures: two reads, made together) with what the
  // compiled calendar says of now.
  const describe = async (row: CalendarRow) => {
    const cal = service.calendars[row.id]!;
    const [holidays, closures] = await Promise.all([service.calendarStore.holidays(row.division), service.calendarStore.closures(row.id)]);
    const now = service.now();
    return {
      id: row.id,
      name: row.name,
      timeZone: row.timeZone,
      weeklyHours: row.weeklyHours,
      division: row.division,
      workingDayMs: row.workingDayMs,
      holidays: holidays === null ? null : { coveredFrom: holidays.coveredFrom, coveredTo: holidays.coveredTo, dates: holidays.holidays },
      holidaysKnownNow: cal.holidaysKnownAt(now),
      closures: closures.map((c) => ({ id: c.id, from: new Date(c.from).toISOString(), to: new Date(c.to).toISOString(), reason: c.reason })),
      openNow: cal.isOpen(now),
      nextOpening: new Date(cal.nextOpening(now)).toISOString(),
      updatedAt: new Date(row.updatedAt).toISOString(),
    };
  };

  app.get('/api/v1/calendars', { config: { access: { roles: ['team-lead', 'manager', 'admin'], token: true } }, schema: { tags: ['calendars'], summary: 'Every calendar' } }, async () => ({
    items: await Promise.all((await service.calendarStore.all()).map(describe)),
  }));

  app.get(
    '/api/v1/calendars/:id',
    { config: { access: { roles: ['team-lead', 'manager', 'admin'], token: true } }, schema: { tags: ['calendars'], summary: 'One calendar: hours, holidays, closures, open now', params: CalendarParams, response: { 200: Type.Object({ id: Type.String() }, { additionalProperties: true }), ...errorResponses } } },
    async (request) => {
      const row = await service.calendarStore.byId(request.params.id);
      if (row === undefined) throw new NotFoundError(`no calendar "${request.params.id}"`);
      return describe(row);
    },
  );

  app.post(
    '/api/v1/calendars/:id/closures',
    {
      config: { access: { roles: ['admin'], token: true } },
      schema: {
        tags: ['calendars'],
        summary: 'Add a closure (whole or part days); running clocks are recomputed in the same transaction',
        params: CalendarParams,
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
      const { id } = request.params;
      const body = request.body;
      const instant = (v: string, field: string) => {
        try {
          return parseInstant(v);
        } catch (e) {
          throw new ValidationError(field, (e as InstantError).message);
        }
      };
      const from = instant(body.from, 'from');
      const to = instant(body.to, 'to');
      if (to <= from) throw new ValidationError('to', 'must be after from');
      const result = await service.addClosure(id, { from, to, ...(body.reason ? { reason: body.reason } : {}) }, actorOf(request));
      return reply.status(201).send(result);
    },
  );

  app.delete(
    '/api/v1/calendars/:id/closures/:closureId',
    {
      config: { access: { roles: ['admin'], token: true } },
      schema: {
        tags: ['calendars'],
        summary: 'Remove a closure; running clocks are recomputed',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), closureId: Type.Integer({ minimum: 1 }) }),
        response: { 200: Type.Object(Recomputed), ...errorResponses },
      },
    },
    async (request) => {
      const { id, closureId } = request.params;
      return service.removeClosure(id, closureId, actorOf(request));
    },
  );

  app.post(
    '/api/v1/holidays/import',
    {
      config: { access: { roles: ['admin'], token: true } },
      bodyLimit: 5 * 1024 * 1024,
      schema: {
        tags: ['calendars'],
        summary: 'Import bank holidays from a GOV.UK-format bank-holidays.json',
        description:
          'Every division in the file (or only ?division=) replaces the stored list, all in one transaction; calendars using it have their running clocks recomputed. ' +
          'Dates must be real days in 2000–2199 and titles strings. Adding holidays needs nothing; an import that would remove bank holidays dated today or later ' +
          'is refused (422, naming the division and the dates) unless ?replace=true. The answer lists, per division, the holidays added, removed and retitled.',
        querystring: Type.Object({
          division: Type.Optional(Type.Union(DIVISIONS.map((d) => Type.Literal(d)))),
          replace: Type.Optional(Type.Boolean({ description: 'allow the import to remove bank holidays dated today or later' })),
        }),
        body: Type.Object({}, { additionalProperties: true }),
      },
    },
    async (request) => {
      const { division, replace } = request.query;
      const lists = holidayListsFromGovUk(request.body, division); // every division validated before any is stored
      return { divisions: await service.importHolidays(lists, actorOf(request), { replace: replace === true }) };
    },
  );
}

// The phone reads (issue 13): per named queue and half hour, calls offered, answered and abandoned,
// handle time, the advisors who answered and the advisors Erlang C says were needed
// (GET /api/v1/staffing); advisors' states as the platforms report them (GET /api/v1/advisors);
// the queues configured and the platform queues nobody mapped (GET /api/v1/admin/phone-queues).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { packInForce } from '../../domain/standards.js';
import { zoneOffset } from '../../domain/time.js';
import { ValidationError } from '../../errors.js';
import type { IngestService } from '../../ingest/service.js';
import { ADVISOR_STATES } from '../../ingest/platform.js';
import { advisorsByQueue, staffingFigures } from '../../ingest/staffing.js';
import { errorResponses } from '../schemas.js';

const DAY_MS = 86_400_000;

/** Local midnight of `date` (YYYY-MM-DD) in the zone, and of the next day, as UTC instants. */
export function dayBounds(date: string, timeZone: string): { from: number; to: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (m === null) throw new ValidationError('date', 'must be a date, YYYY-MM-DD');
  const utcMidnight = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!);
  if (Number.isNaN(utcMidnight) || new Date(utcMidnight).toISOString().slice(0, 10) !== date) throw new ValidationError('date', 'is not a calendar date');
  const local = (ms: number) => ms - zoneOffset(timeZone, ms - zoneOffset(timeZone, ms));
  return { from: local(utcMidnight), to: local(utcMidnight + DAY_MS) };
}

const HalfHour = Type.Object({
  from: Type.String(),
  offered: Type.Integer(),
  answered: Type.Integer(),
  abandoned: Type.Integer(),
  averageHandleSeconds: Type.Union([Type.Number(), Type.Null()]),
  advisorsAnswered: Type.Integer({ description: 'Distinct advisors who answered a call of this queue in the half hour.' }),
  advisorsNeeded: Type.Union([Type.Integer(), Type.Null()], { description: 'Erlang C: the fewest advisors answering the goal share within the phone target at the calls offered (null: no handle time known).' }),
  expectedServiceLevel: Type.Union([Type.Number(), Type.Null()]),
  elapsedMinutes: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The half hour under way: minutes of it gone so far; its advisors needed are at the rate of its calls over those minutes (at least 5). Null for a half hour that is over.',
  }),
});
const StaffingReply = Type.Object({
  date: Type.String(),
  timeZone: Type.String(),
  target: Type.Object({ seconds: Type.Integer(), goal: Type.Number({ description: 'The share of calls to answer within the target (KEPT_PHONE_SERVICE_LEVEL ÷ 100).' }) }),
  queues: Type.Array(
    Type.Object({
      queue: Type.String(),
      name: Type.String(),
      phoneAnswer: Type.Boolean(),
      offered: Type.Integer(),
      answered: Type.Integer(),
      abandoned: Type.Integer(),
      averageHandleSeconds: Type.Union([Type.Number(), Type.Null()]),
      averageTalkSeconds: Type.Union([Type.Number(), Type.Null()]),
      averageWrapSeconds: Type.Union([Type.Number(), Type.Null()]),
      halfHours: Type.Array(HalfHour),
    }),
  ),
});

export async function phoneRoutes(instance: FastifyInstance, service: IngestService, config: Config): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const zone = async () => (await service.calendarStore.byId(config.boardCalendar))?.timeZone ?? 'Europe/London';

  app.get(
    '/api/v1/staffing',
    {
      config: { access: { roles: ['team-lead', 'manager', 'admin'], token: true, display: true } },
      schema: {
        tags: ['live'],
        summary: 'Phone figures per named queue and half hour: offered, answered, abandoned, handle time, advisors who answered and advisors needed (Erlang C)',
        description:
          "A day (default today) in the board calendar's zone, in half hours. Handle time is talk + wrap-up from the platforms (or Kept's `ended` event). Advisors needed: the fewest that answer KEPT_PHONE_SERVICE_LEVEL% of the half hour's calls offered within the pack's phone target, by Erlang C with the half hour's average handle time (else the queue's over the day); the half hour under way at the rate of its calls over the minutes gone (at least 5).",
        querystring: Type.Object({ date: Type.Optional(Type.String({ maxLength: 10, description: 'YYYY-MM-DD (default: today in the board calendar zone).' })) }),
        response: { 200: StaffingReply, ...errorResponses },
      },
    },
    async (request) => {
      const tz = await zone();
      const now = service.now();
      const date = request.query.date ?? new Date(now + zoneOffset(tz, now)).toISOString().slice(0, 10);
      const { from, to } = dayBounds(date, tz);
      const pack = packInForce(service.packFamily, from);
      const phone = pack.standards.find((s) => s.id === 'phone-answer');
      const targetMs = phone?.target.measure === 'elapsed' && phone.target.ms !== undefined ? phone.target.ms : 5 * 60_000;
      const goal = config.phone.serviceLevel / 100;
      const [offered, answered] = await Promise.all([service.telephony.offeredBetween(from, to), service.telephony.answeredBetween(from, to)]);
      const figures = staffingFigures(offered, answered, config.phone.queues, { from, to, targetMs, goal, now });
      return { date, timeZone: tz, target: { seconds: Math.round(targetMs / 1000), goal }, queues: figures };
    },
  );

  app.get(
    '/api/v1/advisors',
    {
      config: { access: { roles: ['team-lead', 'manager', 'admin'], token: true, display: true } },
      schema: {
        tags: ['live'],
        summary: "Advisors' states as the telephony platforms last reported them (available, on-call, wrap-up, away), with counts, in total and per named queue",
        response: {
          200: Type.Object({
            counts: Type.Object(Object.fromEntries(ADVISOR_STATES.map((s) => [s, Type.Integer()]))),
            queues: Type.Array(Type.Object({ queue: Type.String(), name: Type.String(), ...Object.fromEntries(ADVISOR_STATES.map((s) => [s, Type.Integer()])) }), {
              description: "Per named queue, the states of the advisors who answered one of its calls today (the board calendar's day).",
            }),
            advisors: Type.Array(Type.Object({ platform: Type.String(), advisor: Type.String(), state: Type.String(), detail: Type.Union([Type.String(), Type.Null()]), since: Type.String() })),
          }),
          ...errorResponses,
        },
      },
    },
    async () => {
      const [rows, tz] = await Promise.all([service.telephony.advisorStates(), zone()]);
      const counts = Object.fromEntries(ADVISOR_STATES.map((s) => [s, rows.filter((r) => r.state === s).length]));
      const now = service.now();
      const { from, to } = dayBounds(new Date(now + zoneOffset(tz, now)).toISOString().slice(0, 10), tz);
      const queues = advisorsByQueue(rows, await service.telephony.answeredBetween(from, to), config.phone.queues);
      return { counts, queues, advisors: rows.map((r) => ({ platform: r.platform, advisor: r.advisor, state: r.state, detail: r.detail, since: new Date(r.at).toISOString() })) };
    },
  );

  app.get(
    '/api/v1/admin/phone-queues',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['people'],
        summary: 'The named phone queues (KEPT_PHONE_QUEUES) and the platform queues nobody has mapped yet',
        response: {
          200: Type.Object({
            defaultQueue: Type.String(),
            held: Type.Integer({ description: 'Telephony events held now, waiting for their calls to start (at most KEPT_PHONE_HELD_MAX).' }),
            queues: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), route: Type.String(), category: Type.String(), phoneAnswer: Type.Boolean(), match: Type.Array(Type.String()) })),
            unmapped: Type.Array(Type.Object({ platform: Type.String(), queueKey: Type.String(), firstSeen: Type.String(), lastSeen: Type.String(), calls: Type.Integer() }), {
              description: 'Platform queues whose calls went to the default queue: add them to a queue\'s `match` in KEPT_PHONE_QUEUES.',
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async () => {
      const [held, unmapped] = await Promise.all([service.telephony.heldTotal(), service.telephony.unknownQueues()]);
      return {
        defaultQueue: config.phone.defaultQueue,
        held,
        queues: config.phone.queues,
        unmapped: unmapped.map((u) => ({ ...u, firstSeen: new Date(u.firstSeen).toISOString(), lastSeen: new Date(u.lastSeen).toISOString() })),
      };
    },
  );
}

// POST /api/v1/ingest/telephony: a telephony platform's call events, one or an array.
import { actorOf } from '../access.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { CATEGORIES } from '../../domain/model.js';
import type { IngestService } from '../../ingest/service.js';
import { QueueSet } from '../../ingest/queues.js';
import { applyCallEvents, CALL_EVENTS } from '../../ingest/telephony.js';
import { ContactReply, errorResponses } from '../schemas.js';
import { phonePlatformRoutes } from './ingest-phone-platforms.js';
import { phoneRoutes } from './phone.js';

const EXAMPLES = {
  queued: {
    callId: 'CA7781-2026-03-02',
    event: 'queued',
    at: '2026-03-02T10:00:00Z',
    caller: { number: '+441632960001', name: 'Ann Tenant' },
    queue: 'customer-services',
    category: 'repair',
  },
  answered: { callId: 'CA7781-2026-03-02', event: 'answered', at: '2026-03-02T10:03:10Z', eventId: 'evt-90211', agent: 'sam.jones' },
  voicemail: {
    callId: 'CA7790-2026-03-02',
    event: 'voicemail-left',
    at: '2026-03-02T18:05:00Z',
    caller: { number: '+441632960002' },
    recordingUrl: 'https://pbx.example/recordings/CA7790.wav',
    durationSeconds: 41,
  },
};

const CallEventBody = Type.Object(
  {
    callId: Type.String({ minLength: 1, maxLength: 200, description: "The platform's id for the call (its call/contact/interaction id). It is the phone contact's `externalId`: every later event of the call must carry the same id." }),
    event: Type.Union(
      CALL_EVENTS.map((e) => Type.Literal(e)),
      {
        description:
          '`queued`: the call entered the queue (opens the phone contact; its `at` is the contact\'s `receivedAt`, when the answer clock starts). `answered`: an advisor picked it up (meets phone-answer). `abandoned`: the caller hung up while queued (under 5 s after queued is a short abandon, left out of the service level). `callback-requested`: the caller chose a call back (keeps their place: phone-answer keeps running from the queued time). `callback-connected`: the call back reached the caller (meets phone-answer). `voicemail-left`: the caller left a message (opens a separate voicemail contact, 1-working-day reply target). `ended`: the call finished; carries `talkSeconds` and `wrapSeconds` (handle time) to the call ledger, changes no clock.',
      },
    ),
    at: Type.String({ maxLength: 40, description: 'When it happened: ISO-8601 with an offset (`Z` or `+01:00`); a timestamp without one is rejected.', examples: ['2026-03-02T10:00:00Z', '2026-06-01T09:15:42.120+01:00'] }),
    eventId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "The platform's id of this event: its idempotency key. Default `callId:event:at` (at in UTC), so a replayed log adds nothing." })),
    caller: Type.Optional(
      Type.Object(
        {
          number: Type.Optional(Type.String({ maxLength: 50, description: 'Caller line identity, e.g. +441632960001.' })),
          name: Type.Optional(Type.String({ maxLength: 200, description: 'The caller\'s name when the platform knows it (CRM lookup).' })),
        },
        { additionalProperties: false, description: 'queued / voicemail-left: who is calling (stored on the contact as customer.phone and customer.name).' },
      ),
    ),
    queue: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'queued / voicemail-left: the Kept queue (its id, or a platform name it is configured to match: KEPT_PHONE_QUEUES), which sets the route, default category and whether the answer target applies. Built in: `customer-services` (default; 5-minute answer target) and `out-of-hours` (the 24/7 emergency line; no answer target). Another value goes to the default queue and is listed at GET /api/v1/admin/phone-queues.' })),
    category: Type.Optional(Type.Union(CATEGORIES.map((c) => Type.Literal(c)), { description: 'queued / voicemail-left: the category, e.g. from the IVR choice (default general). Ignored on other events: recategorise with POST /api/v1/contacts/{id}/events.' })),
    agent: Type.Optional(Type.String({ maxLength: 200, description: 'answered: the advisor who took the call (also recorded as an `assigned` event: the contact\'s assignee).' })),
    recordingUrl: Type.Optional(Type.String({ maxLength: 2000, description: 'voicemail-left: where the recording is (kept in the contact\'s source; Kept does not fetch it).' })),
    durationSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86400, description: 'voicemail-left: length of the message (kept in the contact\'s source). Ignored on other events.' })),
    talkSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86400, description: 'ended: time the advisor talked with the caller.' })),
    wrapSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86400, description: 'ended: time in wrap-up (after-call work) afterwards.' })),
  },
  { additionalProperties: false },
);

const Result = Type.Object({
  callId: Type.String(),
  event: Type.String(),
  contactId: Type.Optional(Type.String()),
  outcome: Type.String({ description: 'created (opened a contact), replayed (that contact already existed), added (a new event), duplicate (already stored: nothing changed), held (its call has not started: kept until its `queued` arrives), recorded (`ended`: handle time noted).' }),
});
const Reply = Type.Object({
  contacts: Type.Array(ContactReply, { description: 'Every contact the request touched, in order of first mention, with its events and clocks after the request.' }),
  results: Type.Array(Result, { description: 'One entry per posted event, in the order posted.' }),
});

export async function telephonyRoutes(app: FastifyInstance, service: IngestService, config: Config): Promise<void> {
  const queues = new QueueSet(config.phone.queues, config.phone.defaultQueue);
  const hold = { max: config.phone.heldMax, days: config.phone.heldDays };
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/api/v1/ingest/telephony',
    {
      config: { access: 'token' },
      schema: {
        tags: ['ingest'],
        summary: 'Call events from a telephony platform (one or an array)',
        description: [
          'Map the platform\'s call webhook to one JSON object per event, or post a call\'s log as an array (up to 500).',
          '',
          '- `queued` opens the phone contact (channel phone, externalId = callId, receivedAt = at). `voicemail-left` opens a separate voicemail contact (externalId `callId:voicemail`).',
          '- `answered`, `abandoned`, `callback-requested`, `callback-connected` become events on the call. They may arrive in any order and late: the clocks are recomputed from all of the call\'s events sorted by time.',
          '- An event for a call Kept has never seen `queued` is **held** (in the database, bounded by KEPT_PHONE_HELD_MAX; dropped after KEPT_PHONE_HELD_DAYS) and applied when the `queued` arrives: Kept does not guess when a call entered the queue. A request that only held events answers **202**.',
          '- Idempotent: a replayed `queued` answers 200 with the stored contact; a replayed event (same eventId, or same call, event and instant) changes nothing. A `queued` for a known call with other caller, queue or category answers 409.',
          '- An array is checked whole (timestamps, events before their call was queued) before anything is stored.',
          '',
          'Answers **201** when a contact was opened, else **200**, with the contacts touched (events and clocks) and a result per event.',
        ].join('\n'),
        body: Type.Union([CallEventBody, Type.Array(CallEventBody, { minItems: 1, maxItems: 500 })], {
          examples: [
            EXAMPLES.queued,
            EXAMPLES.answered,
            EXAMPLES.voicemail,
            [
              { callId: 'CA7795-2026-03-02', event: 'queued', at: '2026-03-02T11:00:00Z', caller: { number: '+441632960003' } },
              { callId: 'CA7795-2026-03-02', event: 'callback-requested', at: '2026-03-02T11:02:00Z' },
              { callId: 'CA7795-2026-03-02', event: 'callback-connected', at: '2026-03-02T11:04:30Z', agent: 'sam.jones' },
            ],
          ],
        }),
        response: { 200: Reply, 201: Reply, 202: Reply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const r = await applyCallEvents(service.as(actorOf(request)), Array.isArray(body) ? body : [body], !Array.isArray(body), { queues, hold });
      return reply.status(callStatus(r)).send({ contacts: r.contacts, results: r.results });
    },
  );
  await phonePlatformRoutes(app, service, config);
  // The phone reads (staffing, advisors, the queues to map) live beside the adapters that feed them.
  await phoneRoutes(app, service, config);
}

/** 201 when a contact was opened; 202 when everything posted was held; else 200. */
export function callStatus(r: { created: boolean; results: Array<{ outcome: string }> }): number {
  if (r.created) return 201;
  if (r.results.length > 0 && r.results.every((x) => x.outcome === 'held')) return 202;
  return 200;
}

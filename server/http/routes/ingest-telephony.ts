// POST /api/v1/ingest/telephony: a telephony platform's call events, one or an array, in order.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { CATEGORIES } from '../../domain/model.js';
import { applyCallEvent, CALL_EVENTS, type CallEvent } from '../../ingest/telephony.js';
import type { IngestService } from '../../ingest/service.js';
import { ContactReply, errorResponses } from '../schemas.js';

const CallEventBody = Type.Object(
  {
    callId: Type.String({ minLength: 1, maxLength: 200, description: 'The platform\'s call id: the phone contact\'s externalId.' }),
    event: Type.Union(CALL_EVENTS.map((e) => Type.Literal(e)), { description: 'queued opens the phone contact; voicemail-left opens a voicemail contact.' }),
    at: Type.String({ description: 'ISO-8601 with offset.' }),
    eventId: Type.Optional(Type.String({ maxLength: 200, description: 'Idempotency key of this event (default callId:event:at).' })),
    caller: Type.Optional(Type.Object({ number: Type.Optional(Type.String({ maxLength: 50 })), name: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false })),
    queue: Type.Optional(Type.Union([Type.Literal('customer-services'), Type.Literal('out-of-hours')], { description: 'The route (default customer-services).' })),
    category: Type.Optional(Type.Union(CATEGORIES.map((c) => Type.Literal(c)))),
    agent: Type.Optional(Type.String({ maxLength: 200, description: 'answered: the advisor who took the call.' })),
  },
  { additionalProperties: false, examples: [{ callId: 'c-7781', event: 'queued', at: '2026-03-02T10:00:00Z', caller: { number: '+441632960001', name: 'Ann Tenant' } }] },
);

export async function telephonyRoutes(app: FastifyInstance, service: IngestService, _config: Config): Promise<void> {
  app.post(
    '/api/v1/ingest/telephony',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Call events from a telephony platform',
        description:
          'One call event or an array, applied in order. `queued` opens the phone contact (201; a replay 200); `answered`, `abandoned`, `callback-requested`, `callback-connected` apply to that call (200); `voicemail-left` opens a voicemail contact. An event for a call never queued answers 404.',
        body: Type.Union([CallEventBody, Type.Array(CallEventBody, { minItems: 1, maxItems: 500 })]),
        response: { 200: Type.Object({ contacts: Type.Array(ContactReply) }), 201: Type.Object({ contacts: Type.Array(ContactReply) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body as CallEvent | CallEvent[];
      const list = Array.isArray(body) ? body : [body];
      // One entry per contact touched, in first-touched order, each as it stands after the batch.
      const contacts = new Map<string, Awaited<ReturnType<typeof applyCallEvent>>['contact']>();
      let created = false;
      for (let i = 0; i < list.length; i++) {
        const r = await applyCallEvent(service, list[i]!, Array.isArray(body) ? i : -1);
        created ||= r.created;
        contacts.set(r.contact.id, r.contact);
      }
      return reply.status(created ? 201 : 200).send({ contacts: [...contacts.values()] });
    },
  );
}

// Contacts: create (idempotent), add events, read, list with cursor paging, explain a deadline. The
// reads go to the reader threads (app.reads: one round trip each) and are presented here.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { explainClock } from '../../domain/explain.js';
import { CHANNELS, RUNNING_STATUSES, ENDED_STATUSES } from '../../domain/model.js';
import { ValidationError } from '../../errors.js';
import { InstantError, parseInstant } from '../../domain/time.js';
import { NotFoundError, type IngestService } from '../../ingest/service.js';
import { actorOf } from '../access.js';
import { ContactBody, ContactReply, EventBody, errorResponses } from '../schemas.js';

/**
 * Sends JSON text a reader thread has already written (the views, as the route's schema would write
 * them), as it is: Fastify does not serialise a string sent as application/json again.
 */
export function sendJsonText(reply: FastifyReply, text: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text);
}

const STATUSES = [...RUNNING_STATUSES, ...ENDED_STATUSES, 'open'];

function encodeCursor(receivedAt: number, id: string): string {
  return Buffer.from(JSON.stringify([receivedAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { receivedAt: number; id: string } {
  try {
    const [receivedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof receivedAt === 'number' && typeof id === 'string') return { receivedAt, id };
  } catch {
    // fall through
  }
  throw new ValidationError('cursor', 'is not a cursor this API returned');
}

function queryInstant(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseInstant(value);
  } catch (e) {
    throw new ValidationError(field, (e as InstantError).message);
  }
}

/** An explanation with its instants as ISO strings (the contact page reads the same shape). */
export function explainJson(e: ReturnType<typeof explainClock>) {
  const isoKeys = new Set(['at', 'from', 'to', 'until', 'since', 'originalDueAt']);
  return {
    ...e,
    dueAt: e.dueAt === null ? null : new Date(e.dueAt).toISOString(),
    steps: e.steps.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, isoKeys.has(k) && typeof v === 'number' ? new Date(v).toISOString() : v]))),
  };
}

export function contactRoutes(instance: FastifyInstance, service: IngestService): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
  const reads = instance.reads.contacts;
  const views = instance.reads.views;

  app.post(
    '/api/v1/contacts',
    {
      config: { access: 'token' },
      schema: {
        tags: ['contacts'],
        summary: 'Create a contact (idempotent on channel + externalId)',
        description: 'A new contact answers 201 with its clocks. A replay of the same channel and externalId with the same content answers 200 with the stored contact; with different content, 409.',
        body: ContactBody,
        response: { 200: ContactReply, 201: ContactReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { created, contact } = await service.as(actorOf(request)).createContact(request.body);
      return reply.status(created ? 201 : 200).send(contact);
    },
  );

  app.post(
    '/api/v1/contacts/:id/events',
    {
      config: { access: { roles: ['team-lead'], token: true } },
      schema: {
        tags: ['contacts'],
        summary: 'Add one event or an array of events, in any order',
        description: 'Events are applied in `at` order whatever order they arrive in. Events with an externalId are idempotent. Answers with the contact and its recomputed clocks.',
        params: IdParams,
        body: Type.Union([EventBody, Type.Array(EventBody, { minItems: 1, maxItems: 1000 })]),
        response: { 200: Type.Object({ added: Type.Integer(), contact: ContactReply }), ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const body = request.body;
      const events = Array.isArray(body) ? body : [body];
      // Audited in the same transaction under the caller: a person's email or the token's name.
      return service.as(actorOf(request)).addEvents(id, events);
    },
  );

  app.get(
    '/api/v1/contacts/:id',
    { config: { access: { roles: ['team-lead', 'manager'], token: true } }, schema: { tags: ['contacts'], summary: 'A contact with its events and clocks', params: IdParams, response: { 200: ContactReply, ...errorResponses } } },
    async (request, reply) => {
      const { id } = request.params;
      const json = await views.contact(id, service.now());
      if (json === undefined) throw new NotFoundError(`no contact with id "${id}"`);
      // Presented and written out as JSON by the reader thread: sent as it is.
      return sendJsonText(reply, json);
    },
  );

  app.get(
    '/api/v1/contacts',
    {
      config: { access: { roles: ['team-lead', 'manager'], token: true } },
      schema: {
        tags: ['contacts'],
        summary: 'List contacts, newest first, with cursor paging',
        querystring: Type.Object(
          {
            status: Type.Optional(Type.String({ description: `Clock status, comma-separated: ${STATUSES.join(', ')}` })),
            standard: Type.Optional(Type.String({ description: 'Only contacts with a clock of this standard (combined with status: that clock).' })),
            channel: Type.Optional(Type.Union(CHANNELS.map((c) => Type.Literal(c)))),
            category: Type.Optional(Type.String()),
            assignee: Type.Optional(Type.String()),
            queue: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 64,
                description: 'A named phone queue (its Kept id, KEPT_PHONE_QUEUES; customer-services and out-of-hours are built in): the phone and voicemail contacts that came in on it. Combines with every other filter.',
              }),
            ),
            from: Type.Optional(Type.String({ description: 'receivedAt at or after (ISO with offset)' })),
            to: Type.Optional(Type.String({ description: 'receivedAt before (ISO with offset)' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
            cursor: Type.Optional(Type.String({ description: 'nextCursor from the previous page' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(ContactReply), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const status = typeof q.status === 'string' ? q.status.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined;
      for (const s of status ?? []) {
        if (!STATUSES.includes(s)) throw new ValidationError('status', `has an unknown value "${s}"; expected one of ${STATUSES.join(', ')}`, 'not-allowed');
      }
      const limit = q.limit ?? 50;
      const now = service.now();
      const page = await views.list({
        status,
        standard: q.standard,
        channel: q.channel,
        category: q.category,
        assignee: q.assignee,
        queue: q.queue,
        receivedFrom: queryInstant(q.from, 'from'),
        receivedTo: queryInstant(q.to, 'to'),
        after: typeof q.cursor === 'string' ? decodeCursor(q.cursor) : undefined,
        limit: limit + 1,
        now,
      }, limit);
      const nextCursor = page.more && page.last !== null ? encodeCursor(page.last.receivedAt, page.last.id) : null;
      // The items are JSON text from the reader thread (the route's schema gives the same text).
      return sendJsonText(reply, `{"items":${page.items},"nextCursor":${JSON.stringify(nextCursor)}}`);
    },
  );

  app.get(
    '/api/v1/contacts/:id/clocks/:standard/explain',
    {
      config: { access: { roles: ['team-lead', 'manager'], token: true } },
      schema: {
        tags: ['contacts'],
        summary: 'The steps by which a clock\'s dueAt was reached',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }), standard: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 200: Type.Object({ standard: Type.String(), text: Type.String(), steps: Type.Array(Type.Object({}, { additionalProperties: true })) }, { additionalProperties: true }), ...errorResponses },
      },
    },
    async (request) => {
      const { id, standard } = request.params;
      const now = service.now();
      const { clock, contactExists } = await reads.explainable(id, standard);
      if (clock === undefined) {
        if (!contactExists) throw new NotFoundError(`no contact with id "${id}"`);
        throw new NotFoundError(`contact "${id}" has no ${standard} clock`);
      }
      return explainJson(explainClock(service.asOf(clock.detail, now), service.calendars, now));
    },
  );
}

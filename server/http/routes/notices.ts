// Messages and notices (issue 11): a team lead's message on every board (pushed over the board
// socket), an admin's public notice with its start and end (the public status and the contact form
// show it), and saved boards: a team's named filter, and what each wall display shows (one board, or
// several in turn). Writes go through the writer (server/commands/), audited.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { BoardMessages } from '../../alerts/board-message.js';
import { InstantError, parseInstant } from '../../domain/time.js';
import { ValidationError } from '../../errors.js';
import type { IngestService } from '../../ingest/service.js';
import { NOTICE_KINDS, type Notice } from '../../store/notices.js';
import type { SavedBoard } from '../../store/saved-boards.js';
import { actorOf } from '../access.js';

const iso = (ms: number) => new Date(ms).toISOString();
const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const CHANNELS = ['phone', 'email', 'webform', 'social', 'voicemail'] as const;

/** What the public status and the contact form show of a notice. */
export interface PublicNotice {
  kind: string;
  title: string;
  message: string;
  startsAt: string;
  endsAt: string;
}

export const publicNotice = (n: Notice | undefined): PublicNotice | null => (n === undefined ? null : { kind: n.kind, title: n.title, message: n.message, startsAt: iso(n.startsAt), endsAt: iso(n.endsAt) });

export const PublicNoticeSchema = Type.Union([Type.Object({ kind: Type.String(), title: Type.String(), message: Type.String(), startsAt: Type.String(), endsAt: Type.String() }), Type.Null()]);

function instant(v: string, field: string): number {
  try {
    return parseInstant(v);
  } catch (e) {
    throw new ValidationError(field, (e as InstantError).message);
  }
}

export function noticeRoutes(instance: FastifyInstance, service: IngestService, messages: BoardMessages): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const notices = service.stores.notices;
  const boards = service.stores.savedBoards;

  // ---- the team lead's message on every board ----
  app.get('/api/v1/board/message', { config: { access: { roles: ['team-lead', 'manager'], display: true } }, schema: { tags: ['boards'], summary: 'The message standing on every board, or null' } }, async () => ({
    message: messages.current(),
  }));

  app.put(
    '/api/v1/board/message',
    {
      config: { access: { roles: ['team-lead', 'manager'] } },
      schema: {
        tags: ['boards'],
        summary: 'Put a message on every board at once (replaces the one standing); `until` takes it down by itself',
        body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 280 }), until: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])) }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const text = request.body.text.trim();
      if (text === '') throw new ValidationError('text', 'must not be blank', 'required');
      const until = request.body.until == null ? null : instant(request.body.until, 'until');
      if (until !== null && until <= service.now()) throw new ValidationError('until', 'must be in the future', 'in-the-past');
      return { message: await messages.post(text, until, actorOf(request)) };
    },
  );

  app.delete('/api/v1/board/message', { config: { access: { roles: ['team-lead', 'manager'] } }, schema: { tags: ['boards'], summary: 'Take the message off every board' } }, async (request, reply) => {
    await messages.end(actorOf(request));
    return reply.status(204).send();
  });

  // ---- public notices ----
  const noticeView = (n: Notice) => ({ ...n, startsAt: iso(n.startsAt), endsAt: iso(n.endsAt), createdAt: iso(n.createdAt), withdrawnAt: n.withdrawnAt === null ? null : iso(n.withdrawnAt) });

  app.get('/api/v1/notices', { config: { access: { roles: ['admin', 'team-lead', 'manager'] } }, schema: { tags: ['boards'], summary: 'Public notices in force or still to come' } }, async () => ({
    items: (await notices.upcoming(service.now())).map(noticeView),
  }));

  app.post(
    '/api/v1/notices',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['boards'],
        summary: 'Set a public notice (technical issues, adverse weather): the public status and the contact form show it from start to end',
        body: Type.Object(
          {
            kind: Type.Union(NOTICE_KINDS.map((k) => Type.Literal(k))),
            title: Type.String({ minLength: 1, maxLength: 120 }),
            message: Type.String({ minLength: 1, maxLength: 1000 }),
            startsAt: Type.Optional(Type.String({ maxLength: 40, description: 'Default: now.' })),
            endsAt: Type.String({ maxLength: 40 }),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const now = service.now();
      const startsAt = b.startsAt === undefined ? now : instant(b.startsAt, 'startsAt');
      const endsAt = instant(b.endsAt, 'endsAt');
      if (endsAt <= startsAt) throw new ValidationError('endsAt', 'must be after startsAt', 'before-start');
      if (endsAt <= now) throw new ValidationError('endsAt', 'must be in the future', 'in-the-past');
      if (b.title.trim() === '') throw new ValidationError('title', 'must not be blank', 'required');
      if (b.message.trim() === '') throw new ValidationError('message', 'must not be blank', 'required');
      const { id } = await service.writer.run('add-notice', { now, actor: actorOf(request), notice: { kind: b.kind, title: b.title.trim(), message: b.message.trim(), startsAt, endsAt } });
      return reply.status(201).send(noticeView((await notices.notice(id))!));
    },
  );

  app.delete('/api/v1/notices/:id', { config: { access: { roles: ['admin'] } }, schema: { tags: ['boards'], summary: 'Withdraw a public notice now', params: Id } }, async (request, reply) => {
    await service.writer.run('withdraw-notice', { now: service.now(), actor: actorOf(request), id: request.params.id });
    return reply.status(204).send();
  });

  // ---- saved boards and what each display shows ----
  const boardView = (b: SavedBoard) => ({ id: b.id, name: b.name, team: b.team, filter: b.filter, createdBy: b.createdBy, createdAt: iso(b.createdAt), updatedAt: iso(b.updatedAt) });
  const Names = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 });
  const BoardBody = Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 100 }),
      team: Type.String({ minLength: 1, maxLength: 100 }),
      filter: Type.Object(
        {
          queues: Type.Optional(Names),
          channels: Type.Optional(Type.Array(Type.Union(CHANNELS.map((c) => Type.Literal(c))), { maxItems: 5 })),
          categories: Type.Optional(Names),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  );
  const board = (b: Static<typeof BoardBody>) => {
    if (b.name.trim() === '') throw new ValidationError('name', 'must not be blank', 'required');
    if (b.team.trim() === '') throw new ValidationError('team', 'must not be blank', 'required');
    const uniq = (l: readonly string[] | undefined) => [...new Set((l ?? []).map((s) => s.trim()).filter((s) => s !== ''))];
    return { name: b.name.trim(), team: b.team.trim(), filter: { queues: uniq(b.filter.queues), channels: uniq(b.filter.channels), categories: uniq(b.filter.categories) } };
  };
  const Boards = { roles: ['team-lead', 'admin'] as const };

  app.get(
    '/api/v1/boards',
    { config: { access: { roles: ['team-lead', 'manager', 'admin'], display: true } }, schema: { tags: ['boards'], summary: "Saved boards; for a wall display, also its rotation (the boards it shows, in order, and the seconds each)" } },
    async (request) => {
      const choice = request.display === undefined ? undefined : await boards.choice(request.display.id);
      return { items: (await boards.all()).map(boardView), rotation: choice === undefined ? null : { boards: choice.boards, seconds: choice.rotateSeconds } };
    },
  );

  app.post('/api/v1/boards', { config: { access: Boards }, schema: { tags: ['boards'], summary: "Save a board: a team's named filter (queues, channels, categories; an empty list does not filter)", body: BoardBody } }, async (request, reply) => {
    const { id } = await service.writer.run('save-board', { now: service.now(), actor: actorOf(request), board: board(request.body) });
    return reply.status(201).send(boardView((await boards.byId(id))!));
  });

  app.put('/api/v1/boards/:id', { config: { access: Boards }, schema: { tags: ['boards'], summary: 'Replace a saved board', params: Id, body: BoardBody } }, async (request) => {
    const { id } = await service.writer.run('save-board', { now: service.now(), actor: actorOf(request), id: request.params.id, board: board(request.body) });
    return boardView((await boards.byId(id))!);
  });

  app.delete('/api/v1/boards/:id', { config: { access: Boards }, schema: { tags: ['boards'], summary: "Delete a saved board (and take it out of every display's rotation)", params: Id } }, async (request, reply) => {
    await service.writer.run('delete-board', { now: service.now(), actor: actorOf(request), id: request.params.id });
    return reply.status(204).send();
  });

  app.get('/api/v1/display-boards', { config: { access: { roles: ['admin'] } }, schema: { tags: ['boards'], summary: 'What each wall display shows (displays not listed show the whole centre)' } }, async () => ({
    items: (await boards.choices()).map((c) => ({ displayId: c.displayId, boards: c.boards, seconds: c.rotateSeconds, updatedBy: c.updatedBy, updatedAt: iso(c.updatedAt) })),
  }));

  app.put(
    '/api/v1/displays/:id/boards',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['boards'],
        summary: 'Choose what a display shows: one saved board, several in turn every `seconds`, or none (the whole centre)',
        params: Id,
        body: Type.Object({ boards: Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 20 }), seconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 3600, description: 'Default 60.' })) }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const list = [...new Set(request.body.boards)];
      await service.writer.run('display-boards', { now: service.now(), actor: actorOf(request), displayId: request.params.id, boards: list, rotateSeconds: request.body.seconds ?? 60 });
      const c = await boards.choice(request.params.id);
      return { displayId: request.params.id, boards: c?.boards ?? [], seconds: c?.rotateSeconds ?? null };
    },
  );

}

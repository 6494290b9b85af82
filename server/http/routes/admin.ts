// The admin's JSON API: people, API tokens, wall-screen displays, and the audit trail. Every change
// is audited with the admin's email. Passwords, tokens and display secrets are answered once, at
// creation or reset, and stored hashed.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { hashPassword, oneTimePassword } from '../../people/passwords.js';
import { PeopleError, publicUser, type User, type UserWithHash } from '../../store/people.js';
import type { AuditStorePort, PeopleStorePort, TokenStorePort } from '../../store/ports.js';
import { InstantError, parseInstant } from '../../domain/time.js';
import { actorOf, ROLES } from '../access.js';

export interface AdminRouteOptions {
  people: PeopleStorePort;
  tokens: TokenStorePort;
  audit: AuditStorePort;
  now: () => number;
}

const ADMIN = { access: { roles: ['admin'] as const } };
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function adminRoutes(instance: FastifyInstance, { people, tokens, audit, now }: AdminRouteOptions): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const UserId = Type.Object({ id: Type.Integer({ minimum: 1 }) });
  // Only the public fields: byId answers the row with its password hash and failure count, which
  // are never sent (spreading the row answered both to the admin).
  const view = (u: User | UserWithHash) => ({ ...publicUser(u), lockedUntil: iso(u.lockedUntil), createdAt: iso(u.createdAt) });
  const mustFind = async (id: number) => {
    const u = await people.byId(id);
    if (u === undefined) throw new NotFoundError(`no user ${id}`, 'id');
    return u;
  };
  // The store's refusals (a duplicate email, a bad role or queue) as the API's errors: awaited here,
  // since the asynchronous stores reject where the SQLite one threw.
  const people_ = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof PeopleError) throw e.message.includes('already exists') ? new ConflictError(e.message, 'email') : new ValidationError('body', e.message);
      throw e;
    }
  };

  app.get('/api/v1/users', { config: ADMIN, schema: { tags: ['admin'], summary: 'Every user (never a password)' } }, async () => ({ items: (await people.list()).map(view) }));

  app.post(
    '/api/v1/users',
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: 'Create a user; answers their one-time password once',
        body: Type.Object(
          {
            email: Type.String({ maxLength: 254 }),
            name: Type.String({ maxLength: 100 }),
            role: Type.Union(ROLES.map((r) => Type.Literal(r))),
            queues: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50, description: 'Routes or categories an advisor works.' })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const password = oneTimePassword();
      const at = now();
      const user = await people_(() => people.create({ ...request.body, passwordHash: '' }, at));
      await people.setPassword(user.id, await hashPassword(password), true, at);
      await audit.record(at, actorOf(request), 'user.create', { email: user.email, role: user.role, queues: user.queues });
      void reply.header('cache-control', 'no-store');
      return reply.status(201).send({ user: view(user), oneTimePassword: password });
    },
  );

  app.post('/api/v1/users/:id/disable', { config: ADMIN, schema: { tags: ['admin'], summary: 'Disable a user: their sessions end at once', params: UserId } }, async (request) => {
    const u = await mustFind(request.params.id);
    await people.disable(u.id, now());
    await audit.record(now(), actorOf(request), 'user.disable', { email: u.email });
    return view(await mustFind(u.id));
  });

  app.post('/api/v1/users/:id/enable', { config: ADMIN, schema: { tags: ['admin'], summary: 'Enable a disabled user', params: UserId } }, async (request) => {
    const u = await mustFind(request.params.id);
    await people.enable(u.id, now());
    await audit.record(now(), actorOf(request), 'user.enable', { email: u.email });
    return view(await mustFind(u.id));
  });

  app.post(
    '/api/v1/users/:id/reset',
    { config: ADMIN, schema: { tags: ['admin'], summary: 'Reset a password: a one-time password the user must change; their sessions end', params: UserId } },
    async (request, reply) => {
      const u = await mustFind(request.params.id);
      const password = oneTimePassword();
      await people.setPassword(u.id, await hashPassword(password), true, now());
      await audit.record(now(), actorOf(request), 'user.reset', { email: u.email });
      void reply.header('cache-control', 'no-store');
      return { user: view(await mustFind(u.id)), oneTimePassword: password };
    },
  );

  app.put(
    '/api/v1/users/:id/queues',
    {
      config: ADMIN,
      schema: { tags: ['admin'], summary: 'Set the queues (routes or categories) a user works', params: UserId, body: Type.Object({ queues: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 }) }, { additionalProperties: false }) },
    },
    async (request) => {
      const u = await mustFind(request.params.id);
      await people_(() => people.setQueues(u.id, request.body.queues, now()));
      await audit.record(now(), actorOf(request), 'user.queues', { email: u.email, queues: request.body.queues });
      return view(await mustFind(u.id));
    },
  );

  app.get('/api/v1/users/:id/sessions', { config: ADMIN, schema: { tags: ['admin'], summary: "A user's sessions (when, never the id)", params: UserId } }, async (request) => ({
    items: (await people.sessions((await mustFind(request.params.id)).id)).map((s) => ({ id: s.id, createdAt: iso(s.createdAt), lastSeenAt: iso(s.lastSeenAt), expiresAt: iso(s.expiresAt), revokedAt: iso(s.revokedAt) })),
  }));

  app.delete('/api/v1/users/:id/sessions', { config: ADMIN, schema: { tags: ['admin'], summary: "End every session of a user", params: UserId } }, async (request) => {
    const u = await mustFind(request.params.id);
    const ended = await people.revokeAll(u.id, now());
    await audit.record(now(), actorOf(request), 'user.sessions-ended', { email: u.email, ended });
    return { ended };
  });

  // ---- API tokens ----
  app.get('/api/v1/tokens', { config: ADMIN, schema: { tags: ['admin'], summary: 'API tokens (names and dates, never the tokens)' } }, async () => ({
    items: (await tokens.list()).map((t) => ({ name: t.name, createdAt: iso(t.createdAt), revokedAt: iso(t.revokedAt) })),
  }));

  app.post(
    '/api/v1/tokens',
    { config: ADMIN, schema: { tags: ['admin'], summary: 'Create an API token; answered once, stored hashed', body: Type.Object({ name: Type.String({ maxLength: 64 }) }, { additionalProperties: false }) } },
    async (request, reply) => {
      let token: string;
      try {
        token = await tokens.create(request.body.name, now());
      } catch (e) {
        throw new ValidationError('name', (e as Error).message);
      }
      await audit.record(now(), actorOf(request), 'token.create', { name: request.body.name });
      void reply.header('cache-control', 'no-store');
      return reply.status(201).send({ name: request.body.name, token });
    },
  );

  app.delete('/api/v1/tokens/:name', { config: ADMIN, schema: { tags: ['admin'], summary: 'Revoke an API token at once', params: Type.Object({ name: Type.String({ maxLength: 64 }) }) } }, async (request, reply) => {
    if (!(await tokens.revoke(request.params.name, now()))) throw new NotFoundError(`no active token named "${request.params.name}"`, 'name');
    await audit.record(now(), actorOf(request), 'token.revoke', { name: request.params.name });
    return reply.status(204).send();
  });

  // ---- wall-screen displays ----
  app.get('/api/v1/displays', { config: ADMIN, schema: { tags: ['admin'], summary: 'Wall-screen displays (never their secrets)' } }, async () => ({
    items: (await people.displays()).map((d) => ({ ...d, createdAt: iso(d.createdAt), revokedAt: iso(d.revokedAt) })),
  }));

  app.post(
    '/api/v1/displays',
    { config: ADMIN, schema: { tags: ['admin'], summary: 'Create a display; its link (with the secret) is answered once', body: Type.Object({ name: Type.String({ maxLength: 100 }) }, { additionalProperties: false }) } },
    async (request, reply) => {
      const { display, secret } = await people_(() => people.createDisplay(request.body.name, actorOf(request), now()));
      await audit.record(now(), actorOf(request), 'display.create', { id: display.id, name: display.name });
      const base = app.config.publicUrl;
      void reply.header('cache-control', 'no-store');
      return reply.status(201).send({ display: { ...display, createdAt: iso(display.createdAt) }, secret, link: `${base}/display?key=${secret}` });
    },
  );

  app.delete('/api/v1/displays/:id', { config: ADMIN, schema: { tags: ['admin'], summary: 'Revoke a display: its screen loses the board at once', params: UserId } }, async (request, reply) => {
    if (!(await people.revokeDisplay(request.params.id, now()))) throw new NotFoundError(`no active display ${request.params.id}`, 'id');
    await audit.record(now(), actorOf(request), 'display.revoke', { id: request.params.id });
    return reply.status(204).send();
  });

  // ---- the audit trail ----
  const instant = (v: string | undefined, field: string) => {
    if (v === undefined) return undefined;
    try {
      return parseInstant(v);
    } catch (e) {
      throw new ValidationError(field, (e as InstantError).message);
    }
  };
  app.get(
    '/api/v1/audit',
    {
      config: { access: { roles: ['admin'], token: true } },
      schema: {
        tags: ['admin'],
        summary: 'The audit trail, newest first: filter by actor, action and time; page with ?cursor= (the previous page\'s next)',
        querystring: Type.Object({
          actor: Type.Optional(Type.String({ maxLength: 254 })),
          action: Type.Optional(Type.String({ maxLength: 64 })),
          from: Type.Optional(Type.String({ maxLength: 40 })),
          to: Type.Optional(Type.String({ maxLength: 40 })),
          cursor: Type.Optional(Type.Integer({ minimum: 1 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const from = instant(q.from, 'from');
      const to = instant(q.to, 'to');
      const page = await audit.page({
        ...(q.actor !== undefined ? { actor: q.actor } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(q.cursor !== undefined ? { before: q.cursor } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
      });
      return { items: page.items.map((a) => ({ ...a, at: new Date(a.at).toISOString() })), next: page.next };
    },
  );
}

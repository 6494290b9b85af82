// Sign-in, the signed-in person, sign-out, password change, and the wall-screen display link.
// The HTTP contract (issue 10):
//   POST   /api/v1/session {email, password} → 200 {email, name, role, mustChangePassword, csrfToken} + the session cookie;
//          401 "email or password is wrong" and nothing more; 429 while the address or the email is throttled.
//   GET    /api/v1/session → {email, name, role, mustChangePassword, csrfToken} (a display: role "display").
//   GET    /api/v1/session/csrf → {csrfToken} (public: for a page before sign-in).
//   DELETE /api/v1/session → 204, the session ended and the cookie cleared.
//   POST   /api/v1/session/password {current, new} → 204; every other session of the person ends.
//   GET    /display?key=SECRET → sets the display cookie and sends the screen to the board in wall mode (303 /?wall=1).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { TooManyRequestsError, UnauthorizedError, ValidationError } from '../../errors.js';
import { dummyHash, hashPassword, passwordProblem, PASSWORD_MAX, verifyPassword } from '../../people/passwords.js';
import type { AuditStorePort, PeopleStorePort } from '../../store/ports.js';
import { actorOf, DISPLAY_COOKIE, ROLES, SESSION_COOKIE } from '../access.js';
import { errorResponses } from '../schemas.js';

const WRONG = 'email or password is wrong';

const Me = Type.Object({
  email: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  role: Type.String({ description: `${ROLES.join(', ')}, or display (a wall screen)` }),
  mustChangePassword: Type.Boolean(),
  csrfToken: Type.String({ description: 'Send it as X-CSRF-Token on every POST, PUT, PATCH and DELETE made with the session cookie.' }),
});

export interface SessionRouteOptions {
  people: PeopleStorePort;
  audit: AuditStorePort;
  now: () => number;
}

export function sessionRoutes(instance: FastifyInstance, { people, audit, now }: SessionRouteOptions): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const config = app.config;
  const secure = config.publicUrl.startsWith('https://');
  const lifetimes = { idleMs: config.sessionIdleMs, absoluteMs: config.sessionMaxMs };
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure };
  // Failed sign-ins per email (whether or not the account exists, so a 429 tells nothing): the
  // throttle in front of the account lock. @fastify/rate-limit's LRU, peeked before the password is checked.
  const perEmail = app.createRateLimit({
    max: config.signinLockAfter,
    timeWindow: config.signinLockMs,
    keyGenerator: (request) => `signin:${String((request.body as { email?: unknown } | undefined)?.email ?? '').trim().toLowerCase().slice(0, 254)}`,
  });
  const throttled = (seconds: number) => new TooManyRequestsError(`too many failed sign-ins: wait ${seconds} s`, seconds);
  const me = async (request: FastifyRequest, reply: FastifyReply) => {
    const csrfToken = reply.generateCsrf();
    if (request.display !== undefined) return { email: null, name: request.display.name, role: 'display' as const, mustChangePassword: false, csrfToken };
    const u = (await people.byId(request.user!.id))!;
    return { email: u.email, name: u.name, role: u.role, mustChangePassword: u.mustChangePassword, csrfToken };
  };

  app.post(
    '/api/v1/session',
    {
      config: { access: 'public' },
      schema: {
        tags: ['session'],
        summary: 'Sign in: sets the session cookie',
        body: Type.Object({ email: Type.String({ maxLength: 254 }), password: Type.String({ maxLength: PASSWORD_MAX * 4 }) }, { additionalProperties: false }),
        response: { 200: Me, ...errorResponses },
      },
    },
    async (request, reply) => {
      // Peek first: a throttled address or email costs no password hash.
      await app.failedCredentials.check(request);
      const peek = await perEmail(request, { increment: false });
      if (!peek.isAllowed && peek.remaining <= 0) throw throttled(Math.max(peek.ttlInSeconds, 1));
      const at = now();
      const { email, password } = request.body;
      const user = await people.byEmail(email);
      const locked = user !== undefined && user.lockedUntil !== null && user.lockedUntil > at;
      // The same work whether or not the account exists.
      const ok = (await verifyPassword(password, user?.passwordHash ?? (await dummyHash()))) && user !== undefined && !user.disabled && !locked;
      if (!ok) {
        if (user !== undefined) {
          await audit.record(at, user.email, 'session.signin-failed', { address: request.ip, ...(user.disabled ? { disabled: true } : {}), ...(locked ? { locked: true } : {}) });
          if (!locked && !user.disabled && (await people.recordFailure(user.id, config.signinLockAfter, config.signinLockMs, at))) {
            await audit.record(at, user.email, 'user.locked', { address: request.ip, minutes: config.signinLockMs / 60_000 });
          }
        } else {
          // The typed email is not recorded: it may be a customer's address, or a password typed in the wrong box.
          await audit.record(at, 'unknown', 'session.signin-failed', { address: request.ip });
        }
        const limit = await perEmail(request);
        await app.failedCredentials.count(request);
        if (!limit.isAllowed && limit.isExceeded) throw throttled(Math.max(limit.ttlInSeconds, 1));
        throw new UnauthorizedError(WRONG);
      }
      await people.clearFailures(user.id);
      const secret = await people.startSession(user.id, lifetimes, at);
      await audit.record(at, user.email, 'session.signin', { address: request.ip });
      void reply.setCookie(SESSION_COOKIE, secret, { ...cookieOptions, maxAge: Math.floor(config.sessionMaxMs / 1000) });
      void reply.header('cache-control', 'no-store');
      request.user = { id: user.id, email: user.email, name: user.name, role: user.role };
      return me(request, reply);
    },
  );

  app.get(
    '/api/v1/session',
    {
      config: { access: { roles: ROLES, display: true }, beforePasswordChange: true },
      schema: { tags: ['session'], summary: 'Who is signed in (401 when nobody is)', response: { 200: Me, ...errorResponses } },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return me(request, reply);
    },
  );

  // A person's own sessions (where they are signed in): when, never the ids; `current` marks this one.
  app.get(
    '/api/v1/session/list',
    {
      config: { access: { roles: ROLES }, beforePasswordChange: true },
      schema: {
        tags: ['session'],
        summary: 'My sessions: when each began, was last used and expires (never the session ids)',
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({ current: Type.Boolean(), createdAt: Type.String(), lastSeenAt: Type.Union([Type.String(), Type.Null()]), expiresAt: Type.String(), revokedAt: Type.Union([Type.String(), Type.Null()]) }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      return {
        items: (await people.sessions(request.user!.id)).map((x) => ({ current: x.id === request.sessionId, createdAt: iso(x.createdAt)!, lastSeenAt: iso(x.lastSeenAt), expiresAt: iso(x.expiresAt)!, revokedAt: iso(x.revokedAt) })),
      };
    },
  );

  // A CSRF token without a session (the sign-in page, before anyone is signed in): it is bound to
  // this browser's kept_csrf secret cookie, so it is useless to any other browser.
  app.get(
    '/api/v1/session/csrf',
    { config: { access: 'public' }, schema: { tags: ['session'], summary: 'A CSRF token for this browser (also in GET /api/v1/session)', response: { 200: Type.Object({ csrfToken: Type.String() }) } } },
    async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
      return { csrfToken: reply.generateCsrf() };
    },
  );

  app.delete(
    '/api/v1/session',
    { config: { access: { roles: ROLES }, beforePasswordChange: true }, schema: { tags: ['session'], summary: 'Sign out: ends this session' } },
    async (request, reply) => {
      await people.endSession(request.sessionId!, now());
      await audit.record(now(), actorOf(request), 'session.signout', {});
      void reply.clearCookie(SESSION_COOKIE, cookieOptions);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/v1/session/password',
    {
      config: { access: { roles: ROLES }, beforePasswordChange: true },
      schema: {
        tags: ['session'],
        summary: 'Change your password (the one-time password first of all); your other sessions end',
        body: Type.Object({ current: Type.String({ maxLength: PASSWORD_MAX * 4 }), new: Type.String({ maxLength: PASSWORD_MAX * 4 }) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const user = (await people.byId(request.user!.id))!;
      if (!(await verifyPassword(request.body.current, user.passwordHash))) {
        await app.failedCredentials.count(request);
        await audit.record(now(), user.email, 'user.password-change-failed', { address: request.ip });
        throw new ValidationError('current', 'is not your current password', 'wrong-password');
      }
      const problem = passwordProblem(request.body.new, user.email, request.body.current);
      if (problem !== undefined) throw new ValidationError('new', problem, 'weak-password');
      const at = now();
      await people.setPassword(user.id, await hashPassword(request.body.new), false, at);
      // setPassword ends every session; this one carries on under a new id.
      const secret = await people.startSession(user.id, lifetimes, at);
      void reply.setCookie(SESSION_COOKIE, secret, { ...cookieOptions, maxAge: Math.floor(config.sessionMaxMs / 1000) });
      await audit.record(at, user.email, 'user.password-changed', {});
      return reply.status(204).send();
    },
  );

  app.get(
    '/display',
    {
      config: { access: 'public' },
      schema: { hide: true, querystring: Type.Object({ key: Type.String({ maxLength: 200 }) }) },
    },
    async (request, reply) => {
      await app.failedCredentials.check(request);
      const display = await people.display(request.query.key);
      if (display === undefined) {
        await app.failedCredentials.count(request);
        throw new UnauthorizedError('this display link is not valid (revoked, or mistyped): ask an admin for a new one', 'key');
      }
      await audit.record(now(), `display:${display.id}`, 'display.opened', { name: display.name, address: request.ip });
      // Long-lived: an unattended screen stays signed in until the display is revoked.
      void reply.setCookie(DISPLAY_COOKIE, request.query.key, { ...cookieOptions, maxAge: 400 * 86_400 });
      void reply.clearCookie(SESSION_COOKIE, cookieOptions);
      return reply.redirect('/?wall=1', 303);
    },
  );
}

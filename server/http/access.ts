// Who may call a route is a property of the route: each declares `config.access`, one hook enforces
// it from the matched route (never from the URL text), and the app refuses to start if any route
// is missing its declaration. People sign in with a session cookie; integrations send an API token;
// a wall screen carries a display cookie.
import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback, FastifyPluginOptions, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { ForbiddenError, type KeptError, TooManyRequestsError, UnauthorizedError } from '../errors.js';
import type {} from '@fastify/cookie';
import type {} from '@fastify/csrf-protection';
import type { SessionLifetimes } from '../store/people.js';
import type { PeopleStorePort, TokenStorePort } from '../store/ports.js';
import { ROLES, type Role } from '../people/roles.js';

/**
 * - `public`: anyone (health, the public form, the public status, the social challenge, sign-in, the
 *   board's static files and the API docs).
 * - `token`: an integration's API token only (`Authorization: Bearer …`): the ingest routes.
 * - `{ roles, token?, display? }`: a signed-in person whose role is listed (session cookie); with
 *   `token: true` also an integration's API token; with `display: true` also a wall-screen display.
 */
export const ACCESS_LEVELS = ['public', 'token'] as const;
/** The people who sign in (issue 10, server/people/roles.ts): each route names the roles that may call it. */
export { ROLES, type Role };
/**
 * A route's declaration: a level, or the roles of signed-in people that may call it (`token: true`
 * also lets an integration's API token call it; `display: true` a wall-screen display).
 */
export type Access = (typeof ACCESS_LEVELS)[number] | { roles: readonly Role[]; token?: boolean; display?: boolean };

/** A declaration this app knows how to enforce. */
export function validAccess(access: unknown): access is Access {
  if (typeof access === 'string') return (ACCESS_LEVELS as readonly string[]).includes(access);
  if (access === null || typeof access !== 'object') return false;
  const { roles, token, display, ...rest } = access as { roles?: unknown; token?: unknown; display?: unknown };
  return (
    Object.keys(rest).length === 0 &&
    Array.isArray(roles) &&
    roles.length > 0 &&
    roles.every((r) => (ROLES as readonly string[]).includes(r)) &&
    (token === undefined || typeof token === 'boolean') &&
    (display === undefined || typeof display === 'boolean')
  );
}

/** The access column of docs/security.md: `public`, `token`, or the roles then `token`/`display` (`team-lead, manager, token`). */
export function formatAccess(access: Access): string {
  if (typeof access === 'string') return access;
  return [...access.roles, ...(access.token === true ? ['token'] : []), ...(access.display === true ? ['display'] : [])].join(', ');
}

/** The session cookie (a random id; the server stores its SHA-256) and the display cookie (its secret, stored hashed). */
export const SESSION_COOKIE = 'kept_session';
export const DISPLAY_COOKIE = 'kept_display';
export const CSRF_COOKIE = 'kept_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** A signed-in person, as routes see them. */
export interface SessionUser {
  id: number;
  email: string;
  name: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route. Required on every route: the app does not start without it. */
    access?: Access;
    /** Also accept the token as `?access_token=` (webhooks whose senders cannot set headers). */
    tokenInQuery?: boolean;
    /** Callable while the person's one-time password is still unchanged (the session routes). */
    beforePasswordChange?: boolean;
  }
  interface FastifyRequest {
    /** The name of the API token that authenticated the request. */
    tokenName?: string;
    /** The signed-in person (session cookie). */
    user?: SessionUser;
    /** Their session's row id (sign-out ends it). */
    sessionId?: number;
    /** The wall-screen display (display cookie). */
    display?: { id: number; name: string };
  }
  interface FastifyInstance {
    failedCredentials: FailedCredentials;
  }
}

/** Who did it, for the audit trail: the person's email, the token's name, or the display. */
export function actorOf(request: FastifyRequest): string {
  if (request.user !== undefined) return request.user.email;
  if (request.tokenName !== undefined) return request.tokenName;
  if (request.display !== undefined) return `display:${request.display.id}`;
  return 'anonymous';
}

/** One row of the route table: what `docs/security.md` and the security tests read. */
export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

export function tokenFrom(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    // Linear: a prefix test and a trim, no backtracking pattern over untrusted text.
    if (header.length > 8 + 512 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
    const token = header.slice(7).trim();
    return token === '' || /\s/.test(token) ? undefined : token;
  }
  if (request.routeOptions.config.tokenInQuery === true) {
    const q = (request.query as Record<string, unknown> | undefined)?.access_token;
    if (typeof q === 'string') return q;
  }
  return undefined;
}

export interface AccessOptions {
  /** The API tokens (asynchronous: SQLite's TokenStore through asyncOf, or PostgreSQL's). */
  tokens: Pick<TokenStorePort, 'verify'>;
  /** Failed credential checks allowed per address per minute before 429. */
  failedAuthPerMinute: number;
  /** Sessions and displays (omitted by a bare test app: then only tokens are known). */
  people?: Pick<PeopleStorePort, 'session' | 'display'>;
  sessionLifetimes?: SessionLifetimes;
  /** The origins a signed-in browser's socket may come from (KEPT_PUBLIC_URL, or the listen address). */
  allowedOrigins?: () => readonly string[];
  now?: () => number;
}

/** Counting failed credentials per address (shared with sign-in). */
export interface FailedCredentials {
  /** Throws 429 if the address is at its limit, without counting (a peek). */
  check(request: FastifyRequest): Promise<void>;
  /** Counts one failure; throws 429 if that passes the limit. */
  count(request: FastifyRequest): Promise<void>;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Registers the route-table check and the enforcing hook. Call before any route is added (and after
 * @fastify/cookie and @fastify/csrf-protection when people are known). Plugins that add routes without
 * a config (the API docs, the board's static files) are registered inside `publicScope`.
 */
export function registerAccess(app: FastifyInstance, { tokens, failedAuthPerMinute, people, sessionLifetimes, allowedOrigins, now = Date.now }: AccessOptions): RouteAccess[] {
  const routes: RouteOptions[] = [];
  const table: RouteAccess[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    routes.push(route);
  });
  // Judged once every route (and every scope's own onRoute hook) is in: no route serves undeclared.
  app.addHook('onReady', async () => {
    const missing: string[] = [];
    for (const route of routes) {
      const access = (route.config as { access?: Access } | undefined)?.access;
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
        if (!validAccess(access)) missing.push(`${method} ${route.url}`);
        else table.push({ method, url: route.url, access });
      }
    }
    if (missing.length > 0) throw new Error(`routes without an access declaration (config.access: ${ACCESS_LEVELS.join(' | ')} | { roles, token?, display? }): ${missing.join(', ')}`);
  });

  // Failed credentials per address: @fastify/rate-limit's LRU store (bounded, evicts the oldest address).
  const failed = app.createRateLimit({ max: failedAuthPerMinute, timeWindow: 60_000 });
  const tooMany = (ttl: number) => new TooManyRequestsError(`too many failed credentials from this address: wait ${ttl} s`, ttl);
  const failedCredentials: FailedCredentials = {
    check: async (request) => {
      const limit = await failed(request, { increment: false });
      if (!limit.isAllowed && limit.remaining <= 0) throw tooMany(Math.max(limit.ttlInSeconds, 1));
    },
    count: async (request) => {
      const limit = await failed(request);
      if (!limit.isAllowed && limit.isExceeded) throw tooMany(limit.ttlInSeconds);
    },
  };
  app.decorate('failedCredentials', failedCredentials);
  const refuse = async (request: FastifyRequest, error: KeptError): Promise<never> => {
    await failedCredentials.count(request);
    throw error;
  };
  const lifetimes = sessionLifetimes ?? { idleMs: 4 * 3_600_000, absoluteMs: 12 * 3_600_000 };

  app.addHook('onRequest', async (request, reply) => {
    // A request that matched no route has no declaration: it goes on to the 404 handler.
    if (request.is404) return;
    const config = request.routeOptions.config;
    const access = config.access;
    if (access === 'public') return;
    const byRole = typeof access === 'object' ? access : undefined;
    const token = tokenFrom(request);
    if (token !== undefined) {
      const name = await tokens.verify(token);
      if (name === undefined) return refuse(request, new UnauthorizedError('invalid or revoked API token', 'Authorization'));
      if (byRole !== undefined && byRole.token !== true) throw new ForbiddenError(`this route is for signed-in people (${byRole.roles.join(', ')}), not API tokens`, 'Authorization');
      request.tokenName = name;
      return;
    }
    if (byRole === undefined || people === undefined) {
      // `token` (or a declaration this hook does not know): a valid token is the only way in.
      return refuse(request, new UnauthorizedError('missing API token: send Authorization: Bearer <token> (create one with `npm run --silent sla -- token create NAME`)', 'Authorization'));
    }
    const cookies = request.cookies ?? {};
    const socket = request.headers.upgrade?.toLowerCase() === 'websocket';
    const sid = cookies[SESSION_COOKIE];
    const session = sid === undefined || sid === '' ? undefined : await people.session(sid, lifetimes, now());
    if (session !== undefined) {
      const u = session.user;
      request.user = { id: u.id, email: u.email, name: u.name, role: u.role };
      request.sessionId = session.sessionId;
      if (socket) checkOrigin(request, allowedOrigins);
      if (UNSAFE.has(request.method)) await checkCsrf(app, request, reply);
      if (u.mustChangePassword && config.beforePasswordChange !== true) {
        throw new ForbiddenError('change your one-time password first: POST /api/v1/session/password with {"current", "new"}', 'password', 'password-change-required');
      }
      if (!byRole.roles.includes(u.role)) throw new ForbiddenError(`this needs one of the roles ${byRole.roles.join(', ')}; you are ${u.role}`);
      return;
    }
    const secret = cookies[DISPLAY_COOKIE];
    const display = secret === undefined || secret === '' ? undefined : await people.display(secret);
    if (display !== undefined) {
      if (byRole.display !== true) throw new ForbiddenError('a wall-screen display sees the board and nothing else');
      if (socket) checkOrigin(request, allowedOrigins);
      request.display = { id: display.id, name: display.name };
      return;
    }
    if ((sid !== undefined && sid !== '') || (secret !== undefined && secret !== '')) {
      return refuse(request, new UnauthorizedError('your session has ended or the display was revoked: sign in again', 'Cookie'));
    }
    // No credential at all (the page asking GET /api/v1/session before sign-in): not counted as a failure.
    throw new UnauthorizedError(`sign in first (POST /api/v1/session)${byRole.token === true ? ', or send an API token' : ''}`, 'Cookie');
  });
  return table;
}

/** A browser's socket must come from Kept's own origin: KEPT_PUBLIC_URL, or the listen address. Never the request's Host. */
function checkOrigin(request: FastifyRequest, allowedOrigins: (() => readonly string[]) | undefined): void {
  const origin = request.headers.origin;
  const allowed = allowedOrigins?.() ?? [];
  if (typeof origin !== 'string' || !allowed.includes(origin.toLowerCase())) {
    throw new ForbiddenError(`Origin: must be ${allowed.join(' or ') || 'this server'}; got ${typeof origin === 'string' ? JSON.stringify(origin.slice(0, 100)) : 'none'}`, 'Origin');
  }
}

/** A state-changing request carried by a cookie needs the CSRF token (`X-CSRF-Token`) from GET or POST /api/v1/session. */
async function checkCsrf(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const ok = await new Promise<boolean>((resolve) => {
    // @fastify/csrf-protection reports a refusal through reply.send: catch it to answer in Kept's own shape.
    const capture = Object.create(reply) as FastifyReply;
    (capture as unknown as { send: () => FastifyReply }).send = () => {
      resolve(false);
      return reply;
    };
    app.csrfProtection(request, capture, () => resolve(true));
  });
  if (!ok) throw new ForbiddenError(`missing or wrong CSRF token: send the ${CSRF_HEADER} header with the csrfToken from GET /api/v1/session`, 'X-CSRF-Token', 'csrf');
}

/**
 * Registers a plugin whose routes carry no config of their own (swagger-ui, @fastify/static) in a
 * scope that declares every route it adds `public`.
 */
export async function publicScope<O extends FastifyPluginOptions>(app: FastifyInstance, plugin: FastifyPluginCallback<O> | FastifyPluginAsync<O>, opts: O): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route: RouteOptions) => {
      route.config = { ...(route.config as object), access: 'public' } as RouteOptions['config'];
    });
    await scope.register(plugin as never, opts as never);
  });
}

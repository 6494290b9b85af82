// Who may call a route is a property of the route: each declares `config.access`, one hook enforces
// it from the matched route (never from the URL text), and the app refuses to start if any route
// is missing its declaration.
import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback, FastifyPluginOptions, FastifyRequest, RouteOptions } from 'fastify';
import { TooManyRequestsError, UnauthorizedError } from '../errors.js';
import type { TokenStore } from '../store/tokens.js';

/**
 * - `public`: anyone (health, the public form, the public status, the social challenge, the board's
 *   static files and the API docs).
 * - `token`: an integration's API token (`Authorization: Bearer …`).
 * - `board`: the live socket: an API token, or the board's own page (an `Origin` of this server),
 *   until people sign in.
 */
export const ACCESS_LEVELS = ['public', 'token', 'board'] as const;
/** The people who sign in (issue 10): each route names the roles that may call it. */
export const ROLES = ['advisor', 'team-lead', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/**
 * A route's declaration: a level, or the roles of signed-in people that may call it (`token: true`
 * also lets an integration's API token call it).
 */
export type Access = (typeof ACCESS_LEVELS)[number] | { roles: readonly Role[]; token?: boolean };

/** A declaration this app knows how to enforce. */
export function validAccess(access: unknown): access is Access {
  if (typeof access === 'string') return (ACCESS_LEVELS as readonly string[]).includes(access);
  if (access === null || typeof access !== 'object') return false;
  const { roles, token } = access as { roles?: unknown; token?: unknown };
  return Array.isArray(roles) && roles.length > 0 && roles.every((r) => (ROLES as readonly string[]).includes(r)) && (token === undefined || typeof token === 'boolean');
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route. Required on every route: the app does not start without it. */
    access?: Access;
    /** Also accept the token as `?access_token=` (webhooks whose senders cannot set headers). */
    tokenInQuery?: boolean;
  }
  interface FastifyRequest {
    /** The name of the API token that authenticated the request. */
    tokenName?: string;
  }
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
  tokens: TokenStore;
  /** Failed credential checks allowed per address per minute before 429. */
  failedAuthPerMinute: number;
}

/**
 * Registers the route-table check and the enforcing hook. Call before any route is added. Plugins
 * that add routes without a config (the API docs, the board's static files) are registered inside
 * `publicScope`, which declares their routes public.
 */
export function registerAccess(app: FastifyInstance, { tokens, failedAuthPerMinute }: AccessOptions): RouteAccess[] {
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
    if (missing.length > 0) throw new Error(`routes without an access declaration (config.access: ${ACCESS_LEVELS.join(' | ')}): ${missing.join(', ')}`);
  });

  // Failed credentials per address: @fastify/rate-limit's LRU store (bounded, evicts the oldest address).
  const failed = app.createRateLimit({ max: failedAuthPerMinute, timeWindow: 60_000 });
  const refuse = async (request: FastifyRequest, error: UnauthorizedError) => {
    const limit = await failed(request);
    if (!limit.isAllowed && limit.isExceeded) throw new TooManyRequestsError(`too many failed credentials from this address: wait ${limit.ttlInSeconds} s`, limit.ttlInSeconds);
    throw error;
  };

  app.addHook('onRequest', async (request) => {
    // A request that matched no route has no declaration: it goes on to the 404 handler.
    if (request.is404) return;
    const access = request.routeOptions.config.access;
    if (access === 'public') return;
    const token = tokenFrom(request);
    const name = token === undefined ? undefined : tokens.verify(token);
    if (name !== undefined) {
      request.tokenName = name;
      return;
    }
    // The board's own page may open the socket without a token (until sign-in): same origin only.
    if (access === 'board' && token === undefined && sameOrigin(request)) return;
    // Anything else (including a declaration this hook does not know) needs a valid token.
    if (token === undefined) {
      const how = access === 'board' ? 'the live socket needs the board\'s own page (same origin) or an API token' : 'missing API token: send Authorization: Bearer <token> (create one with `npm run --silent sla -- token create NAME`)';
      await refuse(request, new UnauthorizedError(how, 'Authorization'));
    }
    await refuse(request, new UnauthorizedError('invalid or revoked API token', 'Authorization'));
  });
  return table;
}

/** The request comes from a page served by this server (its Origin names the Host it was sent to). */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || origin.length > 2048) return false;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
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

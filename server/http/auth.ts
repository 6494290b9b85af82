// Integration auth: `Authorization: Bearer <token>` on every /api/v1 route that does not opt out.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenStore } from '../store/tokens.js';
import { HttpError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: no token needed (health, the social challenge, the public status). */
    auth?: boolean;
    /** Also accept the token as `?access_token=` (webhooks whose senders cannot set headers). */
    tokenInQuery?: boolean;
  }
  interface FastifyRequest {
    /** The name of the API token that authenticated the request. */
    tokenName?: string;
  }
}

export function tokenFrom(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m === null ? undefined : m[1];
  }
  if (request.routeOptions.config.tokenInQuery === true) {
    const q = (request.query as Record<string, unknown> | undefined)?.access_token;
    if (typeof q === 'string') return q;
  }
  return undefined;
}

export function registerAuth(app: FastifyInstance, tokens: TokenStore): void {
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.auth === false) return;
    if (!request.url.startsWith('/api/')) return;
    if (request.routeOptions.url === undefined) return; // unknown route: let it 404
    const token = tokenFrom(request);
    if (token === undefined) throw new HttpError(401, 'missing API token: send Authorization: Bearer <token> (create one with `npm run --silent sla -- token create NAME`)');
    const name = tokens.verify(token);
    if (name === undefined) throw new HttpError(401, 'invalid or revoked API token');
    request.tokenName = name;
  });
}

// The live socket and the public status a website shows customers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { IngestService } from '../../ingest/service.js';
import type { LiveHub } from '../../live/hub.js';
import type { LiveService } from '../../live/live.js';
import { LIVE_PATH } from '../../live/protocol.js';
import { tokenFrom } from '../auth.js';

/** Same-origin pages (the board) need no token; anything else shows an API token. */
function mayListen(request: FastifyRequest, service: IngestService): boolean {
  const origin = request.headers.origin;
  if (typeof origin === 'string') {
    try {
      if (new URL(origin).host === request.headers.host) return true;
    } catch {
      return false;
    }
  }
  const token = tokenFrom(request) ?? (request.query as { access_token?: string }).access_token;
  return token !== undefined && service.tokens.verify(token) !== undefined;
}

export function liveRoutes(app: FastifyInstance, service: IngestService, live: LiveService, hub: LiveHub): void {
  app.get(
    LIVE_PATH,
    {
      websocket: true,
      config: { auth: false },
      schema: {
        tags: ['live'],
        summary: 'WebSocket: a snapshot of the board, then numbered deltas (see server/live/protocol.ts)',
        querystring: Type.Object({ since: Type.Optional(Type.Integer({ minimum: 0 })), access_token: Type.Optional(Type.String()) }),
      },
      preValidation: async (request, reply) => {
        if (!mayListen(request, service)) await reply.status(401).send({ statusCode: 401, error: 'Unauthorized', message: 'the live socket needs a same-origin page or an API token' });
      },
    },
    (socket, request) => {
      const { since } = request.query as { since?: number };
      hub.add(socket, since ?? null);
    },
  );

  app.get(
    '/api/v1/status/public',
    {
      config: { auth: false },
      schema: {
        tags: ['live'],
        summary: 'For the website: open now, next opening, and whether the centre is busy (no token; cacheable)',
        response: {
          200: Type.Object({
            open: Type.Boolean(),
            nextOpening: Type.String(),
            busy: Type.Boolean(),
            message: Type.String(),
            callsWaiting: Type.Integer(),
            longestWaitSeconds: Type.Integer(),
            at: Type.String(),
          }),
        },
      },
    },
    async (_request, reply) => {
      const now = service.now();
      const cal = service.calendars['customer-services'];
      const busy = live.busy(now);
      void reply.header('cache-control', 'public, max-age=15').header('access-control-allow-origin', '*');
      return {
        open: cal ? cal.isOpen(now) : true,
        nextOpening: new Date(cal ? cal.nextOpening(now) : now).toISOString(),
        ...busy,
        at: new Date(now).toISOString(),
      };
    },
  );
}

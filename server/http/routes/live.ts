// The live socket (bounded in total and per address) and the public status a website shows customers.
// Both answer 503 `starting` with Retry-After while the running clocks load at start.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { UnavailableError } from '../../errors.js';
import type { IngestService } from '../../ingest/service.js';
import type { LiveHub } from '../../live/hub.js';
import type { LiveService } from '../../live/live.js';
import { LIVE_PATH, MARK_PATTERN } from '../../live/protocol.js';
import { ErrorReply } from '../schemas.js';
import { PublicNoticeSchema } from './notices.js';

/** Open sockets in total and per address; a refused socket is told why and when to try again. */
export class SocketQuota {
  private readonly perAddress = new Map<string, number>();
  private total = 0;
  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Takes a place for `address`, or throws a 503 naming the limit reached. */
  take(address: string): () => void {
    if (this.total >= this.maxTotal) throw new UnavailableError(`the live board has its most sockets open (${this.maxTotal}, KEPT_WS_MAX_CLIENTS): try again shortly`, 'too-many-sockets', 5);
    const mine = this.perAddress.get(address) ?? 0;
    if (mine >= this.maxPerAddress) throw new UnavailableError(`this address has ${mine} live sockets open, the most allowed (KEPT_WS_MAX_CLIENTS_PER_ADDRESS): close one first`, 'too-many-sockets', 5);
    this.total++;
    this.perAddress.set(address, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    };
  }

  get open(): number {
    return this.total;
  }
}

/** Refuses while the running clocks load: figures counted from half of them would mislead. */
function whenArmed(live: LiveService): void {
  if (!live.armed) throw new UnavailableError(`Kept is starting: ${live.loadedClocks} running clocks loaded so far; the board is live once every one is armed`, 'starting', 1);
}

export function liveRoutes(instance: FastifyInstance, service: IngestService, live: LiveService, hub: LiveHub): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const quota = new SocketQuota(app.config.wsMaxClients, app.config.wsMaxClientsPerAddress);
  app.get(
    LIVE_PATH,
    {
      websocket: true,
      // A team lead's or manager's session, a wall-screen display (both from Kept's own origin), or an API token: server/http/access.ts.
      config: { access: { roles: ['team-lead', 'manager'], token: true, display: true }, tokenInQuery: true },
      schema: {
        tags: ['live'],
        summary: 'WebSocket: a snapshot of the board, then numbered deltas (see server/live/protocol.ts)',
        querystring: Type.Object({
          since: Type.Optional(Type.Integer({ minimum: 0 })),
          // The mark of the last message the board applied (several instances): server/live/protocol.ts.
          mark: Type.Optional(Type.String({ maxLength: 60, pattern: MARK_PATTERN })),
          access_token: Type.Optional(Type.String({ maxLength: 200 })),
        }),
        response: { 401: ErrorReply, 429: ErrorReply, 503: ErrorReply },
      },
      preValidation: async (request) => {
        whenArmed(live);
        // Counted before the upgrade, so a refused socket costs no snapshot.
        // The place is given back when the connection closes, however the upgrade went.
        request.raw.socket.once('close', quota.take(request.ip));
      },
    },
    (socket, request) => {
      hub.add(socket, request.query.since ?? null, request.query.mark ?? null);
    },
  );

  const Broken = Type.Object({
    contactId: Type.String(),
    standard: Type.String(),
    status: Type.Union([Type.Literal('breached'), Type.Literal('missed'), Type.Literal('missed-extended')]),
    dueAt: Type.String(),
    channel: Type.String(),
    category: Type.String(),
    route: Type.String(),
    customerName: Type.Union([Type.String(), Type.Null()]),
    subject: Type.Union([Type.String(), Type.Null()]),
    assignee: Type.Union([Type.String(), Type.Null()]),
  });
  app.get(
    '/api/v1/live/broken',
    {
      // The board's "broken today" tally opens this list: a team lead's or manager's (not a wall display's: it names customers).
      config: { access: { roles: ['team-lead', 'manager'], token: true } },
      schema: {
        tags: ['live'],
        summary: "Today's broken promises (the board's tally): due today before now and not met by then, latest due first",
        querystring: Type.Object(
          {
            standard: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9-]+$', description: 'One standard only, e.g. complaint-acknowledge.' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ date: Type.String(), total: Type.Integer(), items: Type.Array(Broken) }), 503: ErrorReply },
      },
    },
    async (request) => {
      whenArmed(live);
      return live.brokenToday(service.now(), request.query.standard ?? null, request.query.limit ?? 200);
    },
  );

  app.get(
    '/api/v1/status/public',
    {
      config: { access: 'public' },
      schema: {
        tags: ['live'],
        summary: 'For the website: open now, next opening, and whether the centre is busy (no token; cacheable)',
        response: {
          503: ErrorReply,
          200: Type.Object({
            open: Type.Boolean(),
            nextOpening: Type.String(),
            busy: Type.Boolean(),
            message: Type.String(),
            callsWaiting: Type.Integer(),
            longestWaitSeconds: Type.Integer(),
            at: Type.String(),
            notice: PublicNoticeSchema,
          }),
        },
      },
    },
    async (_request, reply) => {
      // Any website may read it (CORS), and embed the answer: it holds no personal data.
      void reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin');
      whenArmed(live);
      void reply.header('cache-control', 'public, max-age=15');
      const now = service.now();
      return { ...live.publicStatus(now), notice: await app.publicNotice(now) };
    },
  );
}

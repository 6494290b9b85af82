// Health: anyone may ask whether Kept is up and can write; only a token holder is told the details
// (database path, commits, running clocks, the shared mailbox's folders when read over IMAP; on
// PostgreSQL, the change feed's lag and the notification queue's use, and who stores the timers').
// On PostgreSQL a feed that has lost its connection is a reason too: this instance's boards are not live. While writes fail (the writer's last failure: database
// locked, disk full, read-only, writer stopped) it answers 503 with the reason; the next commit that
// writes clears it. While the running clocks load at start it answers 200 `starting`: reads and writes
// are served, the live board not yet (503 `starting` with Retry-After).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { FolderState } from '../../ingest/imap.js';
import type { IngestService } from '../../ingest/service.js';
import { tokenFrom } from '../access.js';
import { databaseFault } from '../errors.js';
import { pgFault } from '../../store/pg/writer-faults.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('starting'), Type.Literal('degraded')], { description: 'starting: the running clocks are loading (the board answers 503 until they are armed).' }),
  reason: Type.Optional(Type.String({ description: 'degraded: why (e.g. database locked).' })),
  uptimeSeconds: Type.Optional(Type.Number({ description: 'With a token only.' })),
  database: Type.Optional(Type.String({ description: 'With a token only: the database file.' })),
  commits: Type.Optional(Type.Number({ description: 'With a token only: write transactions committed since start.' })),
  runningClocks: Type.Optional(Type.Number({ description: 'With a token only: running clocks loaded so far (starting) or held (ok).' })),
  cluster: Type.Optional(
    Type.Object(
      {
        instance: Type.String({ description: 'This instance (KEPT_INSTANCE_ID, else host:pid).' }),
        leader: Type.Boolean({ description: "This instance stores the timers' transitions now." }),
        feed: Type.Object({
          connected: Type.Boolean(),
          lagMs: Type.Number({ description: 'How far behind the change feed this instance may be.' }),
          behind: Type.Number({ description: 'Committed rows waiting behind an open transaction.' }),
          notificationQueueUsage: Type.Union([Type.Number(), Type.Null()], { description: "pg_notification_queue_usage(), 0–1: near 1 every write's NOTIFY fails." }),
          delivered: Type.Number(),
          reconnects: Type.Number(),
          gaps: Type.Number({ description: 'Times the feed was missed and the board reloaded from the tables.' }),
          lastError: Type.Union([Type.String(), Type.Null()]),
        }),
        movedBoards: Type.Optional(
          Type.Object(
            { resumed: Type.Number(), snapshots: Type.Number() },
            { description: 'Boards that came from another instance with their mark since start: resumed with one delta, or given a snapshot (the feed after their mark pruned, or too much changed).' },
          ),
        ),
      },
      { description: 'With a token only, on PostgreSQL (KEPT_DATABASE_URL).' },
    ),
  ),
  mailbox: Type.Optional(
    Type.Array(
      Type.Object({
        folder: Type.String(),
        connected: Type.Boolean(),
        idle: Type.Boolean({ description: 'The server has IDLE: new mail is taken as it arrives (else polled for).' }),
        read: Type.Number({ description: 'Messages taken since the start.' }),
        outcomes: Type.Record(Type.String(), Type.Number(), { description: 'How many of each outcome: created, replied, automatic:<kind>, refused:<code>, too-large…' }),
        lastReadAt: Type.Optional(Type.String({ description: 'When the last message was taken.' })),
        lastCheckedAt: Type.Optional(Type.String({ description: 'When the folder was last looked through to its end.' })),
        lastError: Type.Optional(Type.String({ description: 'The last connection problem (cleared when it connects again).' })),
        lastErrorAt: Type.Optional(Type.String()),
      }),
      { description: 'With a token only, when KEPT_IMAP_HOST is set: each followed folder of the shared mailbox.' },
    ),
  ),
});

export type ClusterHealth = Static<typeof Health>['cluster'] & object;

export function healthRoutes(
  instance: FastifyInstance,
  service: IngestService,
  live: { readonly armed: boolean; readonly loadedClocks: number; readonly runningClocks: number },
  /** The shared mailbox's folders, when it is read over IMAP (asked at each request: the reader is made later). */
  mailbox: () => readonly FolderState[] | undefined = () => undefined,
  /** On PostgreSQL: the feed and the lease as this instance sees them. */
  cluster: () => ClusterHealth | undefined = () => undefined,
): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const started = Date.now();
  app.get(
    '/api/v1/health',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Is Kept up, and is its database answering? Details with a token.',
        response: { 200: Health, 503: Health },
      },
    },
    async (request, reply) => {
      let reason: string | undefined;
      try {
        await service.stores.ping();
      } catch (e) {
        reason = databaseFault((e as { code?: unknown }).code)?.reason ?? pgFault(e)?.reason ?? 'the database does not answer';
      }
      const failure = service.writer.failure;
      if (reason === undefined && failure !== null) reason = failure.reason;
      const clusterNow = cluster();
      if (reason === undefined && clusterNow !== undefined && !clusterNow.feed.connected) reason = 'the change feed is not connected'; // its error (naming the database's host) only in the token holder's details
      const token = tokenFrom(request);
      // A token that cannot be checked (the database is away) is not trusted: the public answer, which names the fault.
      const trusted = token !== undefined && (await service.tokens.verify(token).catch(() => undefined)) !== undefined;
      const folders = trusted ? mailbox() : undefined;
      const status = reason !== undefined ? ('degraded' as const) : live.armed ? ('ok' as const) : ('starting' as const);
      const body = {
        status,
        ...(reason !== undefined ? { reason } : {}),
        ...(trusted
          ? {
              uptimeSeconds: Math.round((Date.now() - started) / 1000),
              database: service.stores.name,
              commits: service.writer.commits,
              runningClocks: live.armed ? live.runningClocks : live.loadedClocks,
              ...(clusterNow !== undefined ? { cluster: clusterNow } : {}),
              ...(folders !== undefined ? { mailbox: folders.map((f) => ({ ...f, outcomes: { ...f.outcomes } })) } : {}),
            }
          : {}),
      };
      if (failure !== null) void reply.header('retry-after', String(failure.retryAfter));
      return reply.status(reason === undefined ? 200 : 503).send(body);
    },
  );
}

// Health: anyone may ask whether Kept is up and can write; only a token holder is told the details
// (database path, commits). While writes fail (the writer's last failure: database locked, disk full,
// read-only, writer stopped) it answers 503 with the reason; the next commit that writes clears it.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { IngestService } from '../../ingest/service.js';
import { tokenFrom } from '../access.js';
import { databaseFault } from '../errors.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  reason: Type.Optional(Type.String({ description: 'degraded: why (e.g. database locked).' })),
  uptimeSeconds: Type.Optional(Type.Number({ description: 'With a token only.' })),
  database: Type.Optional(Type.String({ description: 'With a token only: the database file.' })),
  commits: Type.Optional(Type.Number({ description: 'With a token only: write transactions committed since start.' })),
});

export function healthRoutes(instance: FastifyInstance, service: IngestService): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const started = Date.now();
  const ping = service.connection.sqlite.prepare('SELECT 1');
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
        ping.get();
      } catch (e) {
        reason = databaseFault((e as { code?: unknown }).code)?.reason ?? 'the database does not answer';
      }
      const failure = service.writer.failure;
      if (reason === undefined && failure !== null) reason = failure.reason;
      const token = tokenFrom(request);
      const trusted = token !== undefined && service.tokens.verify(token) !== undefined;
      const body = {
        status: reason === undefined ? ('ok' as const) : ('degraded' as const),
        ...(reason !== undefined ? { reason } : {}),
        ...(trusted ? { uptimeSeconds: Math.round((Date.now() - started) / 1000), database: service.connection.sqlite.name, commits: service.writer.commits } : {}),
      };
      if (failure !== null) void reply.header('retry-after', String(failure.retryAfter));
      return reply.status(reason === undefined ? 200 : 503).send(body);
    },
  );
}

import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { IngestService } from '../../ingest/service.js';

export function healthRoutes(app: FastifyInstance, service: IngestService): void {
  const started = Date.now();
  app.get(
    '/api/v1/health',
    {
      config: { auth: false },
      schema: {
        tags: ['health'],
        summary: 'Is Kept up, and is its database answering?',
        response: { 200: Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number(), database: Type.String(), commits: Type.Number() }) },
      },
    },
    async () => {
      service.connection.sqlite.prepare('SELECT 1').get();
      return { status: 'ok' as const, uptimeSeconds: Math.round((Date.now() - started) / 1000), database: service.connection.sqlite.name, commits: service.writer.commits };
    },
  );
}

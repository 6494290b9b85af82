// The email adapter's routes (see server/ingest/email.ts for the translation).
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';
import type { IngestService } from '../../ingest/service.js';

export async function emailRoutes(_app: FastifyInstance, _service: IngestService, _config: Config): Promise<void> {
  // Not built yet.
}

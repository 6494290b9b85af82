// Channel adapters, each taking its source's own format; one route file per source.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';
import type { IngestService } from '../../ingest/service.js';
import { emailRoutes } from './ingest-email.js';
import { socialRoutes } from './ingest-social.js';
import { telephonyRoutes } from './ingest-telephony.js';
import { webformRoutes } from './ingest-webform.js';

export async function ingestRoutes(app: FastifyInstance, service: IngestService, config: Config): Promise<void> {
  await telephonyRoutes(app, service, config);
  await emailRoutes(app, service, config);
  await webformRoutes(app, service, config);
  await socialRoutes(app, service, config);
}

// The Fastify app: external plugins, then Kept's own (errors, auth), then one route file per resource.
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { IngestService } from '../ingest/service.js';
import { LiveHub } from '../live/hub.js';
import { LiveService } from '../live/live.js';
import { registerAuth } from './auth.js';
import { registerErrorHandler } from './errors.js';
import { calendarRoutes } from './routes/calendars.js';
import { contactRoutes } from './routes/contacts.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { liveRoutes } from './routes/live.js';

declare module 'fastify' {
  interface FastifyInstance {
    live: LiveService;
    hub: LiveHub;
  }
}

export interface AppOptions {
  config: Config;
  service: IngestService;
  logger?: boolean;
}

export async function buildApp({ config, service, logger = false }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ? { level: config.logLevel } : false,
    bodyLimit: config.bodyLimit,
  });
  // Params and query strings arrive as text: a coercing validator for those, strict for bodies.
  const strict = new Ajv({ coerceTypes: false, removeAdditional: false, allErrors: true, strict: false, useDefaults: true });
  const coercing = new Ajv({ coerceTypes: true, removeAdditional: false, allErrors: true, strict: false, useDefaults: true });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Kept integration API',
        version: '1',
        description:
          'Post contacts and events from telephony, mail, web forms and social platforms; read contacts, clocks and calendars. Every /api/v1 route except health, the social webhook challenge and the public status needs `Authorization: Bearer <token>` (create one with `npm run --silent sla -- token create NAME`).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'contacts', description: 'Contacts, events and clocks' },
        { name: 'ingest', description: 'Channel adapters: each source in its own format' },
        { name: 'calendars', description: 'Working hours, bank holidays, closures' },
        { name: 'live', description: 'The live board socket and the public status' },
        { name: 'health', description: 'Liveness' },
      ],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await app.register(fastifyFormbody);
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  registerErrorHandler(app);
  registerAuth(app, service.tokens);

  healthRoutes(app, service);
  contactRoutes(app, service);
  calendarRoutes(app, service);
  await ingestRoutes(app, service, config);

  const live = new LiveService(service, { busyCallsWaiting: config.busyCallsWaiting, busyOldestWaitSeconds: config.busyOldestWaitSeconds, urgentLimit: config.boardListLimit });
  const hub = new LiveHub((seq) => live.snapshot(seq));
  live.start(hub);
  app.decorate('live', live);
  app.decorate('hub', hub);
  app.addHook('onClose', async () => {
    live.stop();
    hub.close();
  });
  liveRoutes(app, service, live, hub);

  const webRoot = resolve(config.webRoot);
  if (existsSync(webRoot)) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: ['index.html'] });
  }
  return app;
}

// The Fastify app: the front door (limits, security headers, rate limits, access by route, one error
// handler, a strict JSON parser), then one route file per resource, then the board's static files.
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from 'helmet';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { registerBoardExtras } from '../alerts/index.js';
import type { Config } from '../config.js';
import type { IngestService } from '../ingest/service.js';
import { LiveHub } from '../live/hub.js';
import { MailboxReader } from '../ingest/imap.js';
import { LiveService, type FeedView, type LiveOptions, type LoadResult } from '../live/live.js';
import type { PeopleStorePort } from '../store/ports.js';
import { openReads, type ReaderPool, type ReadService, type Reads } from '../readers/index.js';
import { CSRF_COOKIE, CSRF_HEADER, publicScope, registerAccess, type RouteAccess } from './access.js';
import { registerErrorHandler } from './errors.js';
import { registerJsonParser } from './json-body.js';
import { loggerOptions } from './logging.js';
import { adminRoutes } from './routes/admin.js';
import { calendarRoutes } from './routes/calendars.js';
import { contactRoutes } from './routes/contacts.js';
import { healthRoutes, type ClusterHealth } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { liveRoutes } from './routes/live.js';
import { metricsRoutes } from './routes/metrics.js';
import { sessionRoutes } from './routes/session.js';
import { queueRoutes } from './routes/queue.js';
import { queueLiveRoutes } from './routes/queue-live.js';
import { privacyRoutes } from './routes/privacy.js';
import { PrivacyService } from '../privacy/service.js';
import { RetentionJob } from '../privacy/retention.js';
import { reportRoutes } from './routes/reports.js';
import { ReportService } from '../reports/service.js';

declare module 'fastify' {
  interface FastifyInstance {
    live: LiveService;
    /** Settles once every running clock is loaded and armed (rejects if loading failed). */
    liveArmed: Promise<LoadResult>;
    hub: LiveHub;
    /** The shared mailbox's reader, when KEPT_IMAP_HOST is set (issue 12). */
    mailReader?: MailboxReader;
    config: Config;
    /** People (users, sessions) and wall-screen displays. */
    people: PeopleStorePort;
    /** One person's data: search, export, erasure, holds (issue 17). */
    privacy: PrivacyService;
    /** The retention schedule's daily job (issue 17). */
    retention: RetentionJob;
    /** Every route with who may call it, filled when the app is ready (docs/security.md, tests/security). */
    routeAccess: RouteAccess[];
    /** The API's reads, on the reader threads (KEPT_READER_THREADS) or on the main connection. */
    reads: Reads;
    /** The reader threads, or null when reads run on the main connection. */
    readerPool: ReaderPool | null;
  }
}

export interface AppOptions {
  config: Config;
  service: IngestService;
  /** Log requests (JSON lines, secrets redacted) to standard output, or to this stream. */
  logger?: boolean | Writable;
  /** How the running clocks load at start (page size, how the loop is let in): for tests. */
  liveLoading?: Pick<LiveOptions, 'loadPageRows' | 'yieldToLoop'>;
  /** Tests only: reader threads that can be told to crash (ReaderPool.crashForTest). */
  readerTestHooks?: boolean;
  /**
   * The API's reads when the service is not on SQLite (PostgreSQL: server/readers/ports.ts over the
   * pool); on SQLite they are opened here, on reader threads.
   */
  reads?: Reads;
  /** On PostgreSQL: the feed and the lease as this instance sees them, for /health. */
  cluster?: () => ClusterHealth | undefined;
  /** The change feed (PostgreSQL): the board's marks, and boards moved from another instance resumed. */
  feed?: FeedView;
  /** On PostgreSQL: whether this instance sends the alerts now (the timers' leader), so N instances send once. */
  sendsAlerts?: () => boolean;
}

/** The Content-Security-Policy for the board, the public form and everything else Kept serves. */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
};

/** The API docs' policy: the app's, with inline styles allowed for swagger-ui's renderer. */
export const DOCS_CSP = Object.fromEntries(
  Object.entries({ ...CSP_DIRECTIVES, styleSrc: ["'self'", "'unsafe-inline'"], scriptSrcAttr: ["'none'"] }).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), v]),
);

export async function buildApp({ config, service, logger = false, liveLoading = {}, readerTestHooks = false, reads, cluster, sendsAlerts, feed }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger === false ? false : loggerOptions(config.logLevel, logger === true ? undefined : logger),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    // Limits on the connection itself: a client that sends headers or a body slowly is cut off.
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionTimeout: config.idleTimeoutMs,
    http: { headersTimeout: config.headersTimeoutMs, requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    // Proto-poisoning and other body rules are the JSON parser's (json-body.ts); no 404 on `//` spellings.
    routerOptions: { ignoreDuplicateSlashes: false, ignoreTrailingSlash: false, maxParamLength: 200 },
  });
  app.decorate('config', config);
  // Params and query strings arrive as text: a coercing validator for those, strict for bodies.
  const strict = new Ajv({ coerceTypes: false, removeAdditional: false, allErrors: true, strict: false, useDefaults: true });
  const coercing = new Ajv({ coerceTypes: true, removeAdditional: false, allErrors: true, strict: false, useDefaults: true });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
  registerErrorHandler(app);
  registerJsonParser(app);

  // Security headers from helmet, its policy built once at start and set on every response before
  // routing (@fastify/helmet built a new helmet per request: ~7% of the event loop's time per contact).
  const securityHeaders = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    // HSTS only where Kept is reached over https (sent over http it would be ignored, or pin a wrong origin).
    strictTransportSecurity: config.publicUrl.startsWith('https://') ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  });
  app.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, () => done()));
  // Rate limits are opt-in per route (the public form) and by hand for failed credentials (access.ts).
  await app.register(fastifyRateLimit, { global: false, cache: 20_000 });
  // Before the access hook: a refused upgrade must still reach the plugin's onResponse, which closes the socket.
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  // Cookies: the session (HttpOnly, SameSite=Lax, Secure over https), the display's, and the CSRF secret.
  const secure = config.publicUrl.startsWith('https://');
  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, {
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'strict', secure },
    getToken: (request) => {
      const value = request.headers[CSRF_HEADER];
      return typeof value === 'string' ? value : undefined;
    },
  });
  const people = service.stores.people;
  app.decorate('people', people);
  const table = registerAccess(app, {
    tokens: service.tokens,
    failedAuthPerMinute: config.failedAuthPerMinute,
    people,
    sessionLifetimes: { idleMs: config.sessionIdleMs, absoluteMs: config.sessionMaxMs },
    allowedOrigins: () => allowedOrigins(app, config),
    now: service.now,
  });
  app.decorate('routeAccess', table);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Kept integration API',
        version: '1',
        description:
          'Post contacts and events from telephony, mail, web forms and social platforms; read contacts, clocks and calendars. Integrations send `Authorization: Bearer <token>` (create one with `npm run --silent sla -- token create NAME`) on the ingest routes and the reads; people sign in (POST /api/v1/session) and send the session cookie, with X-CSRF-Token on every POST, PUT, PATCH and DELETE. Which route takes which: docs/security.md. Errors answer `{statusCode, error, code, message, field?, rule?}`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'kept_session' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'contacts', description: 'Contacts, events and clocks' },
        { name: 'ingest', description: 'Channel adapters: each source in its own format' },
        { name: 'calendars', description: 'Working hours, bank holidays, closures' },
        { name: 'people', description: 'Queues, actions, the contact page, safeguarding alerts' },
        { name: 'live', description: 'The live board socket and the public status' },
        { name: 'session', description: 'Sign-in, sign-out, password change (session cookie + X-CSRF-Token)' },
        { name: 'admin', description: 'Users, API tokens, wall-screen displays, the audit trail' },
        { name: 'privacy', description: "Tenants' personal data: find a person, subject access export, erasure, legal holds, retention (admin)" },
        { name: 'alerts', description: 'Alert rules: email, Teams and Slack when a promise breaks or a threshold is crossed' },
        { name: 'boards', description: "The team lead's message on every board, public notices, saved boards and what each display shows" },
        { name: 'health', description: 'Liveness' },
      ],
    },
  });
  // The docs pages run under their own CSP: the same as the app's, except that swagger-ui injects
  // <style> elements as it renders (styles only: scripts stay 'self').
  await publicScope(app, fastifySwaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  await app.register(fastifyFormbody, { bodyLimit: config.bodyLimit });

  const live = new LiveService(service, {
    calendar: config.boardCalendar,
    busyCallsWaiting: config.busyCallsWaiting,
    busyOldestWaitSeconds: config.busyOldestWaitSeconds,
    wording: config.publicMessages,
    urgentLimit: config.boardListLimit,
    serviceLevelTarget: config.boardServiceLevelTarget,
    phoneQueues: config.phone.queues,
    defaultPhoneQueue: config.phone.defaultQueue,
    ...(feed !== undefined ? { feed } : {}),
    ...liveLoading,
  });
  const hub = new LiveHub(
    (seqNow) => live.snapshot(seqNow),
    service.stores.kind === 'postgres'
      ? { seqStart: 2 ** 52 + Math.floor(Math.random() * 2 ** 51), resume: (mark, since, seqNow) => live.resume(mark, since, seqNow) }
      : {},
  );
  // The running clocks load in pages with the event loop let in between: the app can listen and
  // answer (/health says `starting`) while a large backlog loads; the board answers 503 until armed.
  const armed = live.start(hub);
  armed.catch(() => {}); // the caller awaits app.liveArmed and decides (main.ts stops Kept)
  app.decorate('live', live);
  app.decorate('liveArmed', armed);
  app.decorate('hub', hub);
  app.addHook('onClose', async () => {
    live.stop();
    hub.close();
  });

  // Tenants' personal data (issue 17): the retention job runs once a day and catches up at start.
  const privacy = new PrivacyService(service);
  const retention = new RetentionJob(service, config.retention, { info: (m) => app.log.info(m), error: (m) => app.log.error(m) }, { slots: service.stores.slots });
  app.decorate('privacy', privacy);
  app.decorate('retention', retention);
  app.addHook('onReady', async () => retention.start());
  app.addHook('onClose', async () => retention.stop());

  // Reads on their own threads (issue 9), opened on the file the main connection has migrated.
  const readers: ReadService =
    service.connection !== null
      ? openReads(service.connection.sqlite, () => service.calendars, { threads: config.readerThreads, testHooks: readerTestHooks, onStopped: (detail) => app.log.error(`${detail}; restarting it`) })
      : { reads: reads ?? missingReads(), pool: null, close: async () => {} };
  app.decorate('reads', readers.reads);
  app.decorate('readerPool', readers.pool);
  app.addHook('onClose', async () => readers.close());

  // The feed and the lease as the cluster sees them, with the boards moved here from other instances.
  const clusterNow =
    cluster === undefined
      ? undefined
      : () => {
          const c = cluster();
          return c === undefined ? undefined : { ...c, movedBoards: { resumed: hub.resumed, snapshots: hub.resumeRefused } };
        };
  healthRoutes(app, service, live, () => app.mailReader?.state, clusterNow);
  metricsRoutes(app, { service, live, hub, ...(clusterNow !== undefined ? { cluster: clusterNow } : {}) });
  sessionRoutes(app, { people, audit: service.audit, now: service.now });
  adminRoutes(app, { people, tokens: service.tokens, audit: service.audit, now: service.now });
  contactRoutes(app, service);
  calendarRoutes(app, service);
  queueRoutes(app, service, { webRoot: config.webRoot });
  queueLiveRoutes(app, service);
  privacyRoutes(app, { privacy, retention, audit: service.audit, now: service.now });
  // The weekly report (issue 16): `app.reports` for the routes and the Monday job (server/reports/schedule.ts).
  const reports = new ReportService(service, { homes: config.homes, queues: config.phone.queues, log: (m) => app.log.error(m) });
  app.decorate('reports', reports);
  reportRoutes(app, reports);
  await ingestRoutes(app, service, config);
  registerBoardExtras(app, service, live, hub, sendsAlerts);
  // The shared mailbox over IMAP (issue 12): followed once the app is ready, let go on close.
  if (config.imap.host !== '') {
    const reader = new MailboxReader(service, config, app.log);
    app.decorate('mailReader', reader);
    app.addHook('onReady', async () => {
      await service.writerReady;
      reader.start();
    });
    app.addHook('onClose', async () => reader.stop());
  }

  liveRoutes(app, service, live, hub);

  const webRoot = resolve(config.webRoot);
  if (existsSync(webRoot)) {
    await publicScope(app, fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: ['index.html'] });
  }
  return app;
}

/**
 * The origins a browser's socket may open from: KEPT_PUBLIC_URL when set, else the address Kept
 * listens on (and `localhost` for a loopback address). Never the request's own Host header.
 */
function allowedOrigins(app: FastifyInstance, config: Config): string[] {
  if (config.publicUrl !== '') return [new URL(config.publicUrl).origin];
  const address = app.server.address();
  const port = address !== null && typeof address === 'object' ? address.port : config.port;
  const host = config.host;
  const hosts = ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [host.includes(':') ? `[${host}]` : host];
  return hosts.map((h) => `http://${h}:${port}`);
}

function missingReads(): never {
  throw new Error('buildApp: a service off SQLite needs its reads (AppOptions.reads)');
}

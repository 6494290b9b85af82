// Issue 11's additions beyond the board's figures, registered in one call from app.ts: the alert
// evaluator and its rules' routes; the team lead's message on every board; public notices; saved
// boards and what each wall display shows.
import type { FastifyInstance } from 'fastify';
import { alertRoutes } from '../http/routes/alerts.js';
import { noticeRoutes, publicNotice, type PublicNotice } from '../http/routes/notices.js';
import type { IngestService } from '../ingest/service.js';
import type { LiveService } from '../live/live.js';
import { BoardMessages, type MessageSink } from './board-message.js';
import { AlertService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Alert rules judged against the live state (server/alerts/service.ts). */
    alerts: AlertService;
    /** The team lead's message on every board. */
    boardMessages: BoardMessages;
    /** The public notice in force at `now`, or null (the public status and the contact form). */
    publicNotice: (now: number) => Promise<PublicNotice | null>;
  }
}

/** `hub`: the board socket's hub (server/live/hub.ts), for frames outside the numbered deltas. */
export function registerBoardExtras(app: FastifyInstance, service: IngestService, live: LiveService, hub: MessageSink, sends?: () => boolean): void {
  const alerts = new AlertService({ service, live, config: app.config, log: app.log, ...(sends !== undefined ? { sends } : {}) });
  // On PostgreSQL the message may be posted through another instance: read again every 2 s.
  const messages = new BoardMessages(service, hub, service.stores.kind === 'postgres' ? { followMs: 2000 } : {});
  const notices = service.stores.notices;
  app.decorate('alerts', alerts);
  app.decorate('boardMessages', messages);
  app.decorate('publicNotice', async (now: number) => publicNotice(await notices.inForce(now)));
  alertRoutes(app, service, alerts);
  noticeRoutes(app, service, messages);
  app.addHook('onReady', async () => {
    await messages.load();
    await alerts.start();
  });
  app.addHook('onClose', async () => {
    alerts.stop();
    messages.stop();
  });
}

// My queue's live feed: a socket that tells an advisor (or a team lead) which contacts just changed
// among those their queue shows — assigned to them, or unassigned in the queues they work — so the
// page re-reads at once; and which of the contacts the page says it shows changed (a reassignment away).
// It carries contact ids only: no customer's details travel on it.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { IngestService } from '../../ingest/service.js';
import type { ContactRow } from '../../store/contacts.js';
import { SocketQuota } from './live.js';

export const QUEUE_LIVE_PATH = '/api/v1/queue/live';
/** Changes within this many ms go out as one message. */
const GATHER_MS = 150;

/** Contacts a page may ask to hear about, at most (the page shows its queue: tens, rarely hundreds). */
const MAX_WATCHED = 1000;

interface Listener {
  socket: WebSocket;
  wants: (contact: ContactRow) => boolean;
  /** The contacts the page shows now (it says so after each read): a change to one, even away from this queue, is told. */
  watched: Set<string>;
  pending: Set<string>;
  timer: NodeJS.Timeout | null;
}

export function queueLiveRoutes(instance: FastifyInstance, service: IngestService): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const quota = new SocketQuota(app.config.wsMaxClients, app.config.wsMaxClientsPerAddress);
  const listeners = new Set<Listener>();

  const flush = (l: Listener) => {
    l.timer = null;
    if (l.pending.size === 0) return;
    const contacts = [...l.pending];
    l.pending.clear();
    l.socket.send(JSON.stringify({ type: 'changed', contacts }));
  };
  const unsubscribe = service.onChange((changes) => {
    for (const l of listeners) {
      for (const ch of changes) if (l.watched.has(ch.contactId) || l.wants(ch.contact)) l.pending.add(ch.contactId);
      if (l.pending.size > 0 && l.timer === null) l.timer = setTimeout(() => flush(l), GATHER_MS);
    }
  });
  app.addHook('onClose', async () => {
    unsubscribe();
    for (const l of listeners) {
      if (l.timer !== null) clearTimeout(l.timer);
      l.socket.close(1001, 'server closing');
    }
  });

  app.get(
    QUEUE_LIVE_PATH,
    {
      websocket: true,
      config: { access: { roles: ['advisor', 'team-lead'] } },
      schema: { tags: ['people'], summary: "WebSocket: `{type: 'changed', contacts: [ids]}` when contacts in the caller's queue change (ids only)" },
      preValidation: async (request) => {
        request.raw.socket.once('close', quota.take(request.ip));
      },
    },
    (socket, request) => {
      const user = request.user!;
      // The advisor's queues, read as the socket opens; the handlers attach at once (no frame is lost),
      // and a change heard in the few ms before the read answers is judged on the assignee alone.
      const queues = new Set<string>();
      app.people.byEmail(user.email).then(
        (u) => {
          for (const q of u?.queues ?? []) queues.add(q);
        },
        () => socket.close(1011, 'could not read your queues'),
      );
      const wants =
        user.role === 'team-lead'
          ? () => true
          : (c: ContactRow) => c.assignee === user.email || (c.assignee === null && (queues.has(c.route) || queues.has(c.category)));
      const l: Listener = { socket, wants, watched: new Set(), pending: new Set(), timer: null };
      listeners.add(l);
      // `{type: 'watch', contacts: [ids]}`: what the page shows now (replaces the last list; bounded).
      socket.on('message', (data) => {
        let m: unknown;
        try {
          m = JSON.parse(String(data));
        } catch {
          return;
        }
        const ids = (m as { type?: unknown; contacts?: unknown }).type === 'watch' ? (m as { contacts?: unknown }).contacts : undefined;
        if (!Array.isArray(ids)) return;
        l.watched = new Set(ids.slice(0, MAX_WATCHED).filter((id): id is string => typeof id === 'string' && id.length <= 200));
      });
      socket.on('close', () => {
        if (l.timer !== null) clearTimeout(l.timer);
        listeners.delete(l);
      });
      socket.send(JSON.stringify({ type: 'hello' }));
    },
  );
}

// Social (Meta webhook style): comments and private messages open social contacts; the
// organisation's own replies become `replied` events.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { ContactError } from '../domain/model.js';
import { formatInstant } from '../domain/time.js';
import { ConflictError, NotFoundError, type ContactInput, type IngestService } from './service.js';

/** X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body with the app secret. Timing-safe. */
export function signatureValid(raw: Buffer, header: unknown, secret: string): boolean {
  if (secret === '' || typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(raw).digest('hex'));
  const given = Buffer.from(header.slice(7).trim().toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const SUMMARY_CHARS = 2000;

interface FeedChange {
  field?: unknown;
  value?: {
    item?: unknown;
    verb?: unknown;
    comment_id?: unknown;
    post_id?: unknown;
    parent_id?: unknown;
    from?: { id?: unknown; name?: unknown };
    message?: unknown;
    created_time?: unknown;
  };
}
interface Messaging {
  sender?: { id?: unknown };
  recipient?: { id?: unknown };
  timestamp?: unknown;
  message?: { mid?: unknown; text?: unknown; is_echo?: unknown; attachments?: unknown };
}
export interface SocialWebhook {
  object?: unknown;
  entry?: unknown;
}
interface Entry {
  id?: unknown;
  time?: unknown;
  changes?: unknown;
  messaging?: unknown;
}

export interface SocialResult {
  /** Items Kept acted on: a contact opened (or replayed), or a reply recorded. */
  received: number;
  /** Items that are not a customer's comment or message nor the page's answer to one Kept holds. */
  ignored: number;
  /** Items Kept could not take (e.g. a reply timed before the message it answers), with the reason. */
  rejected: Array<{ item: string; message: string }>;
  /** Every contact opened or answered, once each, in order. */
  contacts: string[];
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const object = <T>(v: unknown): T | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as T) : undefined);
/** A number, or a numeric string (some payloads quote them). */
const numeric = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

/** One thing to do for one webhook item. */
type Action =
  | { kind: 'open'; item: string; input: ContactInput }
  | { kind: 'comment-reply'; item: string; parentId: string; at: number; externalId: string }
  | { kind: 'message-reply'; item: string; recipientId: string; at: number; externalId: string };

/**
 * When the item happened: its own time (created_time in seconds, timestamp in ms), else the entry's
 * time, else when Kept received it (noted in the contact's source).
 */
function when(own: number | undefined, entryTime: number | undefined, now: number): { at: number; note?: string } {
  if (own !== undefined) return { at: own };
  if (entryTime !== undefined) return { at: entryTime, note: "no time on the item: receivedAt is the webhook entry's time" };
  return { at: now, note: 'no time on the item: receivedAt is when Kept received it' };
}

/** Reads the payload into actions, in document order. Shapes Kept does not handle are counted as ignored. */
function plan(doc: SocialWebhook, config: Config, now: number): { actions: Action[]; ignored: number } {
  const actions: Action[] = [];
  let ignored = 0;
  const entries = list(doc.entry);
  if (doc.object !== 'page') {
    // Another product's webhook (instagram, whatsapp_business_account…): nothing here is a page's item.
    for (const e of entries) {
      const entry = object<Entry>(e);
      ignored += list(entry?.changes).length + list(entry?.messaging).length;
    }
    return { actions, ignored };
  }
  entries.forEach((e, i) => {
    const entry = object<Entry>(e) ?? {};
    const entryPage = text(entry.id);
    const entryTime = numeric(entry.time);
    // The page's own id: as configured, or the entry's (a page's webhook entry is the page).
    const isPage = (id: string | undefined) => id !== undefined && ((config.socialPageId !== '' && id === config.socialPageId) || id === entryPage);
    list(entry.changes).forEach((c, j) => {
      const item = `entry[${i}].changes[${j}]`;
      const ch = object<FeedChange>(c);
      const v = object<NonNullable<FeedChange['value']>>(ch?.value);
      const commentId = text(v?.comment_id);
      if (ch?.field !== 'feed' || v === undefined || v.item !== 'comment' || v.verb !== 'add' || commentId === undefined) {
        ignored++;
        return;
      }
      const seconds = numeric(v.created_time);
      const t = when(seconds === undefined ? undefined : seconds * 1000, entryTime, now);
      const fromId = text(v.from?.id);
      const parentId = text(v.parent_id);
      if (isPage(fromId)) {
        if (parentId === undefined) ignored++; // the page commenting on its own post: nothing answered
        else actions.push({ kind: 'comment-reply', item, parentId, at: t.at, externalId: commentId });
        return;
      }
      const name = text(v.from?.name);
      const message = text(v.message);
      const postId = text(v.post_id);
      actions.push({
        kind: 'open',
        item,
        input: {
          channel: 'social',
          route: 'customer-services',
          externalId: commentId,
          receivedAt: formatInstant(t.at),
          ...(name !== undefined ? { customer: { name } } : {}),
          subject: name !== undefined ? `Facebook comment from ${name}` : 'Facebook comment',
          ...(message !== undefined ? { summary: message.slice(0, SUMMARY_CHARS) } : {}),
          source: {
            platform: 'facebook',
            kind: 'comment',
            postId: postId ?? null,
            senderId: fromId ?? null,
            ...(parentId !== undefined ? { parentId } : {}),
            ...(entryPage !== undefined ? { pageId: entryPage } : {}),
            ...(t.note !== undefined ? { note: t.note } : {}),
          },
        },
      });
    });
    list(entry.messaging).forEach((m, j) => {
      const item = `entry[${i}].messaging[${j}]`;
      const ev = object<Messaging>(m);
      const msg = object<NonNullable<Messaging['message']>>(ev?.message);
      const mid = text(msg?.mid);
      const senderId = text(ev?.sender?.id);
      // Deliveries, reads, postbacks, reactions: not messages.
      if (msg === undefined || mid === undefined || senderId === undefined) {
        ignored++;
        return;
      }
      const t = when(numeric(ev?.timestamp), entryTime, now);
      if (isPage(senderId)) {
        const recipientId = text(ev?.recipient?.id);
        if (recipientId === undefined) ignored++;
        else actions.push({ kind: 'message-reply', item, recipientId, at: t.at, externalId: mid });
        return;
      }
      if (msg.is_echo === true) {
        ignored++; // an echo of a message sent by another page or app: not the customer's
        return;
      }
      const body = text(msg.text);
      const attachments = list(msg.attachments).length;
      actions.push({
        kind: 'open',
        item,
        input: {
          channel: 'social',
          route: 'customer-services',
          externalId: mid,
          receivedAt: formatInstant(t.at),
          subject: 'Facebook message',
          ...(body !== undefined ? { summary: body.slice(0, SUMMARY_CHARS) } : attachments > 0 ? { summary: `(${attachments} attachment${attachments === 1 ? '' : 's'}, no text)` } : {}),
          source: {
            platform: 'facebook',
            kind: 'message',
            senderId,
            ...(entryPage !== undefined ? { pageId: entryPage } : {}),
            ...(attachments > 0 ? { attachments } : {}),
            ...(t.note !== undefined ? { note: t.note } : {}),
          },
        },
      });
    });
  });
  return { actions, ignored };
}

/** Client-side problems with one item: reported, never a non-2xx for the whole delivery (the platform would resend it forever). */
const itemProblem = (e: unknown) => e instanceof ContactError || e instanceof ConflictError || e instanceof NotFoundError;

/**
 * Stores a verified webhook delivery. Customers' comments and messages are opened together (one
 * group commit); the page's replies follow in order, so a reply in the same delivery finds them.
 */
export async function ingestSocial(service: IngestService, config: Config, doc: SocialWebhook): Promise<SocialResult> {
  const { actions, ignored: skipped } = plan(doc, config, service.now());
  let ignored = skipped;
  let received = 0;
  const rejected: SocialResult['rejected'] = [];
  const touched: string[][] = actions.map(() => []);
  const fail = (item: string, e: unknown) => {
    if (!itemProblem(e)) throw e; // a server fault: non-2xx, so the platform retries later
    rejected.push({ item, message: e instanceof Error ? e.message : String(e) });
  };

  const opens = actions.flatMap((a, i) => (a.kind === 'open' ? [{ a, i }] : []));
  const settled = await Promise.allSettled(opens.map(({ a }) => service.createContact(a.input)));
  settled.forEach((s, k) => {
    const { a, i } = opens[k]!;
    if (s.status === 'fulfilled') {
      touched[i]!.push(s.value.contact.id);
      received++;
    } else fail(a.item, s.reason);
  });

  for (const [i, a] of actions.entries()) {
    if (a.kind === 'open') continue;
    const event = { type: 'replied', at: formatInstant(a.at), externalId: a.externalId };
    let targets: string[];
    if (a.kind === 'comment-reply') {
      const parent = service.contacts.byExternal('social', a.parentId);
      targets = parent === undefined ? [] : [parent.id];
    } else {
      // Every message from that customer still awaiting a reply, up to this one: a reply answers the
      // conversation so far. (A resend of a reply already recorded finds none: counted as ignored.)
      targets = service.contacts.socialMessagesAwaitingReply(a.recipientId, a.at);
    }
    if (targets.length === 0) {
      ignored++;
      continue;
    }
    try {
      for (const id of targets) {
        await service.addEvents(id, [event]);
        touched[i]!.push(id);
      }
      received++;
    } catch (e) {
      fail(a.item, e);
    }
  }
  return { received, ignored, rejected, contacts: [...new Set(touched.flat())] };
}

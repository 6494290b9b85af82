// Social (Meta webhook style): comments and private messages open social contacts; the
// organisation's own replies become `replied` events.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { ContactError } from '../domain/model.js';
import { EARLIEST_INSTANT, InstantError, LATEST_INSTANT, formatInstant, parseInstant } from '../domain/time.js';
import { KeptError } from '../errors.js';
import type { ContactInput, IngestService } from './service.js';
import { databaseFault } from '../store/faults.js';

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
  /** Items Kept could not take (e.g. a time out of range, a reply timed before the message it answers): `message` names the field. */
  rejected: Array<{ item: string; message: string }>;
  /** Every contact opened or answered, once each, in order. */
  contacts: string[];
}

/** A server fault, not the item's: the database unavailable. The delivery answers 503 and the platform resends it. */
function serverFault(e: unknown): boolean {
  if (e instanceof KeptError) return e.status >= 500;
  return databaseFault((e as { code?: unknown } | null | undefined)?.code) !== undefined;
}

const MAX_ID_CHARS = 1000;
const MAX_NAME_CHARS = 200;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
const object = <T>(v: unknown): T | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as T) : undefined);
/** A value as quoted back in a refusal: short, whatever was sent. */
const shown = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : typeof v === 'number' ? String(v) : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;

/** A list the payload holds at `field`: absent is empty; anything but an array is the item's refusal. */
function listAt(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ContactError(field, `must be an array, not ${shown(v)}`);
  return v;
}

/** An id the payload gives (string or number); over 1000 characters is refused (Kept's externalId rule). */
function idAt(v: unknown, field: string): string | undefined {
  const id = text(v);
  if (id !== undefined && id.length > MAX_ID_CHARS) throw new ContactError(field, `must be at most ${MAX_ID_CHARS} characters`);
  return id;
}

const DECIMAL = /^\d+(?:\.\d+)?$/; // anchored, one repeat at a time: a failed match is one pass

/**
 * A time the payload gives at `field`: undefined when absent, else its instant. Numbers (or numeric
 * strings) count `unit` since 1970; an ISO-8601 string with an offset is read as one. Anything else,
 * and any instant outside the years 2000–2199, is the item's refusal naming the field.
 * `either`: Meta writes entry.time in seconds on feed changes and in milliseconds on messages; the
 * two spans of 2000–2199 (≤ 7.3e9 s, ≥ 9.4e11 ms) do not overlap, so the size tells them apart.
 */
export function instantAt(v: unknown, field: string, unit: 'seconds' | 'milliseconds' | 'either'): number | undefined {
  if (v === undefined || v === null) return undefined;
  const units = unit === 'seconds' ? 'seconds' : unit === 'milliseconds' ? 'milliseconds' : 'seconds or milliseconds';
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && DECIMAL.test(v.trim())) n = Number(v.trim());
  else if (typeof v === 'string' && v.trim().length <= 40) {
    try {
      return parseInstant(v.trim());
    } catch (e) {
      if (!(e instanceof InstantError)) throw e;
      // The parser's reason helps only when the text was meant as ISO-8601 (a day out of range, no offset).
      const why = /^\d{4}-/.test(v.trim()) ? ` (${e.message})` : '';
      throw new ContactError(field, `${shown(v)} is not a time: expected ${units} since 1970, or an ISO-8601 timestamp with an offset${why}`);
    }
  } else throw new ContactError(field, `${shown(v)} is not a time: expected ${units} since 1970`);
  if (!Number.isFinite(n) || n <= 0) throw new ContactError(field, `${shown(v)} is not a time: expected a positive number of ${units} since 1970`);
  const ms = Math.floor(unit === 'seconds' || (unit === 'either' && n < 1e11) ? n * 1000 : n);
  if (ms < EARLIEST_INSTANT || ms >= LATEST_INSTANT) throw new ContactError(field, `${shown(v)} (${units} since 1970) is outside the years 2000–2199 Kept supports`);
  return ms;
}

/** Where an action's facts came from: a service refusal of `receivedAt` or `externalId` names these. */
interface Origin {
  item: string;
  time: string;
  id: string;
}

/** One thing to do for one webhook item. */
type Action =
  | { kind: 'open'; origin: Origin; input: ContactInput }
  | { kind: 'comment-reply'; origin: Origin; parentId: string; at: number; externalId: string }
  | { kind: 'message-reply'; origin: Origin; recipientId: string; at: number; externalId: string };

/** The entry's own time, read once: used by its items that carry none (a bad one refuses only those). */
type EntryTime = { at: number } | { problem: ContactError } | undefined;

/**
 * When the item happened: its own time (created_time in seconds, timestamp in ms), else the entry's
 * time, else when Kept received it (noted in the contact's source).
 */
function when(own: number | undefined, ownField: string, entryTime: EntryTime, entryField: string, now: number): { at: number; field: string; note?: string } {
  if (own !== undefined) return { at: own, field: ownField };
  if (entryTime !== undefined) {
    if ('problem' in entryTime) throw entryTime.problem;
    return { at: entryTime.at, field: entryField, note: "no time on the item: receivedAt is the webhook entry's time" };
  }
  return { at: now, field: ownField, note: 'no time on the item: receivedAt is when Kept received it' };
}

interface Plan {
  actions: Action[];
  ignored: number;
  rejected: SocialResult['rejected'];
}

/** Reads the payload into actions, in document order. Shapes Kept does not handle are ignored; malformed items are refused one by one. */
function plan(doc: SocialWebhook, config: Config, now: number, refuse: (item: string, e: unknown) => void): Plan {
  const actions: Action[] = [];
  const out: Plan = { actions, ignored: 0, rejected: [] };
  let entries: unknown[];
  try {
    entries = listAt(doc.entry, 'entry');
  } catch (e) {
    refuse('entry', e);
    return out;
  }
  if (doc.object !== 'page') {
    // Another product's webhook (instagram, whatsapp_business_account…): nothing here is a page's item.
    for (const e of entries) {
      const entry = object<Entry>(e);
      out.ignored += (Array.isArray(entry?.changes) ? entry.changes.length : 0) + (Array.isArray(entry?.messaging) ? entry.messaging.length : 0);
    }
    return out;
  }
  entries.forEach((e, i) => {
    const entryPath = `entry[${i}]`;
    const entry = object<Entry>(e);
    if (entry === undefined) {
      refuse(entryPath, new ContactError(entryPath, `must be an object, not ${shown(e)}`));
      return;
    }
    let entryPage: string | undefined;
    let changes: unknown[];
    let messaging: unknown[];
    try {
      entryPage = idAt(entry.id, `${entryPath}.id`);
      changes = listAt(entry.changes, `${entryPath}.changes`);
      messaging = listAt(entry.messaging, `${entryPath}.messaging`);
    } catch (err) {
      refuse(entryPath, err);
      return;
    }
    const entryTimeField = `${entryPath}.time`;
    let entryTime: EntryTime;
    try {
      const t = instantAt(entry.time, entryTimeField, 'either');
      entryTime = t === undefined ? undefined : { at: t };
    } catch (err) {
      if (!(err instanceof ContactError)) {
        refuse(entryPath, err);
        return;
      }
      entryTime = { problem: err };
    }
    // The page's own id: as configured, or the entry's (a page's webhook entry is the page).
    const isPage = (id: string | undefined) => id !== undefined && ((config.socialPageId !== '' && id === config.socialPageId) || id === entryPage);

    changes.forEach((c, j) => {
      const item = `${entryPath}.changes[${j}]`;
      try {
        const ch = object<FeedChange>(c);
        if (ch === undefined) throw new ContactError(item, `must be an object, not ${shown(c)}`);
        const v = object<NonNullable<FeedChange['value']>>(ch.value);
        if (ch.field !== 'feed' || v === undefined || v.item !== 'comment' || v.verb !== 'add') {
          out.ignored++; // edits, removals, reactions, posts: not a customer's new comment
          return;
        }
        const idField = `${item}.value.comment_id`;
        const commentId = idAt(v.comment_id, idField);
        if (commentId === undefined) throw new ContactError(idField, 'is required: a new comment without its id cannot be recognised when it is sent again');
        const timeField = `${item}.value.created_time`;
        const t = when(instantAt(v.created_time, timeField, 'seconds'), timeField, entryTime, entryTimeField, now);
        const from = object<{ id?: unknown; name?: unknown }>(v.from);
        const fromId = idAt(from?.id, `${item}.value.from.id`);
        const parentId = idAt(v.parent_id, `${item}.value.parent_id`);
        const origin = { item, time: t.field, id: idField };
        if (isPage(fromId)) {
          if (parentId === undefined) out.ignored++; // the page commenting on its own post: nothing answered
          else actions.push({ kind: 'comment-reply', origin, parentId, at: t.at, externalId: commentId });
          return;
        }
        const name = text(from?.name)?.slice(0, MAX_NAME_CHARS);
        const message = text(v.message);
        const postId = idAt(v.post_id, `${item}.value.post_id`);
        actions.push({
          kind: 'open',
          origin,
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
      } catch (err) {
        refuse(item, err);
      }
    });

    messaging.forEach((m, j) => {
      const item = `${entryPath}.messaging[${j}]`;
      try {
        const ev = object<Messaging>(m);
        if (ev === undefined) throw new ContactError(item, `must be an object, not ${shown(m)}`);
        // Deliveries, reads, postbacks, reactions: not messages.
        if (ev.message === undefined) {
          out.ignored++;
          return;
        }
        const msg = object<NonNullable<Messaging['message']>>(ev.message);
        if (msg === undefined) throw new ContactError(`${item}.message`, `must be an object, not ${shown(ev.message)}`);
        const idField = `${item}.message.mid`;
        const mid = idAt(msg.mid, idField);
        if (mid === undefined) throw new ContactError(idField, 'is required: a message without its id cannot be recognised when it is sent again');
        const sender = object<{ id?: unknown }>(ev.sender);
        const senderId = idAt(sender?.id, `${item}.sender.id`);
        if (senderId === undefined) throw new ContactError(`${item}.sender.id`, 'is required: whose message it is decides whether it is a customer\'s or the page\'s reply');
        const timeField = `${item}.timestamp`;
        const t = when(instantAt(ev.timestamp, timeField, 'milliseconds'), timeField, entryTime, entryTimeField, now);
        const origin = { item, time: t.field, id: idField };
        if (isPage(senderId)) {
          const recipientId = idAt(object<{ id?: unknown }>(ev.recipient)?.id, `${item}.recipient.id`);
          if (recipientId === undefined) out.ignored++;
          else actions.push({ kind: 'message-reply', origin, recipientId, at: t.at, externalId: mid });
          return;
        }
        if (msg.is_echo === true) {
          out.ignored++; // an echo of a message sent by another page or app: not the customer's
          return;
        }
        const body = text(msg.text);
        const attachments = Array.isArray(msg.attachments) ? msg.attachments.length : 0;
        actions.push({
          kind: 'open',
          origin,
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
      } catch (err) {
        refuse(item, err);
      }
    });
  });
  return out;
}

/** The service's field names for what an item gave: its refusal names the item's own field instead. */
const SERVICE_FIELDS: Record<string, keyof Omit<Origin, 'item'>> = { receivedAt: 'time', 'event.at': 'time', externalId: 'id', 'event.externalId': 'id' };

/**
 * Stores a verified webhook delivery. Customers' comments and messages are opened together (one
 * group commit); the page's replies follow in order, so a reply in the same delivery finds them.
 * Whatever is wrong with one item refuses that item only, naming its field; only a server fault
 * (the database unavailable) fails the delivery, so the platform resends it later.
 * `log` hears about refusals that were not the item's plain fault (a bug an item set off).
 */
export async function ingestSocial(service: IngestService, config: Config, doc: SocialWebhook, log?: (item: string, error: unknown) => void): Promise<SocialResult> {
  const rejected: SocialResult['rejected'] = [];
  /** Records the item's refusal, or rethrows a server fault. */
  const refuse = (item: string, e: unknown, origin?: Origin) => {
    if (serverFault(e)) throw e;
    if (e instanceof KeptError) {
      const mapped = origin !== undefined && e.field !== undefined && e.rule !== undefined ? SERVICE_FIELDS[e.field] : undefined;
      if (mapped !== undefined) rejected.push({ item, message: `${origin![mapped]}: ${e.rule}` });
      // The plan's refusals already name their path in the payload (`entry[…]…`); the service's are prefixed with the item.
      else rejected.push({ item, message: e.field?.startsWith('entry') === true ? e.message : `${item}: ${e.message}` });
      return;
    }
    log?.(item, e);
    rejected.push({ item, message: `${item}: could not be taken (${e instanceof Error ? e.message : String(e)})` });
  };

  const { actions, ignored: skipped } = plan(doc, config, service.now(), refuse);
  let ignored = skipped;
  let received = 0;
  const touched: string[][] = actions.map(() => []);

  const opens = actions.flatMap((a, i) => (a.kind === 'open' ? [{ a, i }] : []));
  const settled = await Promise.allSettled(opens.map(({ a }) => service.createContact(a.input)));
  settled.forEach((s, k) => {
    const { a, i } = opens[k]!;
    if (s.status === 'fulfilled') {
      touched[i]!.push(s.value.contact.id);
      received++;
    } else refuse(a.origin.item, s.reason, a.origin);
  });

  for (const [i, a] of actions.entries()) {
    if (a.kind === 'open') continue;
    const event = { type: 'replied', at: formatInstant(a.at), externalId: a.externalId };
    try {
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
      for (const id of targets) {
        await service.addEvents(id, [event]);
        touched[i]!.push(id);
      }
      received++;
    } catch (e) {
      refuse(a.origin.item, e, a.origin);
    }
  }
  return { received, ignored, rejected, contacts: [...new Set(touched.flat())] };
}

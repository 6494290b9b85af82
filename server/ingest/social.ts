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
  /** What was ignored, by kind (`page.feed.reaction`, `whatsapp.statuses.read`, `object:user`…): counted, logged, never silently dropped. */
  ignoredKinds: Record<string, number>;
  /** Messages withdrawn by the customer (deleted): their contacts cancelled with reason `withdrawn`. */
  withdrawn: string[];
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
  | { kind: 'message-reply'; origin: Origin; recipientId: string; at: number; externalId: string }
  /** A business message that could not be delivered (WhatsApp `failed`): a reply it was no longer meets the clock. */
  | { kind: 'undelivered'; origin: Origin; recipientId: string; externalId: string; at: number; reason: string }
  /** The customer deleted a message: its contact is cancelled with reason `withdrawn`. */
  | { kind: 'withdraw'; origin: Origin; externalId: string; at: number };

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
  ignoredKinds: Record<string, number>;
  rejected: SocialResult['rejected'];
}

const PLATFORM_WORDS: Record<string, string> = { facebook: 'Facebook', instagram: 'Instagram', whatsapp: 'WhatsApp' };

/** Reads the payload into actions, in document order. Shapes Kept does not handle are ignored; malformed items are refused one by one. */
function plan(doc: SocialWebhook, config: Config, now: number, refuse: (item: string, e: unknown) => void): Plan {
  const actions: Action[] = [];
  const out: Plan = { actions, ignored: 0, ignoredKinds: {}, rejected: [] };
  const ignore = (kind: string) => {
    out.ignored++;
    const key = kind.slice(0, 80);
    out.ignoredKinds[key] = (out.ignoredKinds[key] ?? 0) + 1;
  };
  let entries: unknown[];
  try {
    entries = listAt(doc.entry, 'entry');
  } catch (e) {
    refuse('entry', e);
    return out;
  }
  const objectKind = doc.object === 'page' ? 'facebook' : doc.object === 'instagram' ? 'instagram' : doc.object === 'whatsapp_business_account' ? 'whatsapp' : undefined;
  if (objectKind === undefined) {
    // A product Kept does not read: every item counted under its object's name.
    const name = typeof doc.object === 'string' ? doc.object.slice(0, 40) : 'missing';
    for (const e of entries) {
      const entry = object<Entry>(e);
      const n = (Array.isArray(entry?.changes) ? entry.changes.length : 0) + (Array.isArray(entry?.messaging) ? entry.messaging.length : 0);
      for (let k = 0; k < Math.max(1, n); k++) ignore(`object:${name}`);
    }
    return out;
  }
  const platform = objectKind;
  const words = PLATFORM_WORDS[platform]!;
  entries.forEach((e, i) => {
    const entryPath = `entry[${i}]`;
    const entry = object<Entry>(e);
    if (entry === undefined) {
      refuse(entryPath, new ContactError(entryPath, `must be an object, not ${shown(e)}`));
      return;
    }
    let entryPage: string | undefined;
    let changes: unknown[];
    let messaging: Array<[unknown, string]>;
    try {
      entryPage = idAt(entry.id, `${entryPath}.id`);
      changes = listAt(entry.changes, `${entryPath}.changes`);
      // Instagram's Business Login examples put one change's field and value on the entry itself.
      const flat = entry as Entry & { field?: unknown; value?: unknown };
      if (changes.length === 0 && flat.field !== undefined && flat.value !== undefined) changes = [{ field: flat.field, value: flat.value }];
      // `standby`: messages while another app (an inbox tool) owns the conversation: still the customer's.
      messaging = [
        ...listAt(entry.messaging, `${entryPath}.messaging`).map((m, j): [unknown, string] => [m, `${entryPath}.messaging[${j}]`]),
        ...listAt((entry as Entry & { standby?: unknown }).standby, `${entryPath}.standby`).map((m, j): [unknown, string] => [m, `${entryPath}.standby[${j}]`]),
      ];
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
        const ch = object<FeedChange & { value?: Record<string, unknown> }>(c);
        if (ch === undefined) throw new ContactError(item, `must be an object, not ${shown(c)}`);
        if (platform === 'whatsapp') return whatsappChange(ch, item, entryPage, entryTime, entryTimeField, now, actions, ignore);
        const v = object<NonNullable<FeedChange['value']> & Record<string, unknown>>(ch.value);
        const field = typeof ch.field === 'string' ? ch.field.slice(0, 40) : 'missing';
        if (v === undefined) return ignore(`${platform}.${field}`);
        // Facebook: feed comments (`from` since Graph v2.6, `sender_id` before). Instagram: comments,
        // live comments and @mentions.
        const fbComment = platform === 'facebook' && field === 'feed' && v.item === 'comment';
        const igComment = platform === 'instagram' && (field === 'comments' || field === 'live_comments');
        const igMention = platform === 'instagram' && field === 'mentions';
        if (fbComment && v.verb !== 'add') return ignore(`facebook.feed.comment.${typeof v.verb === 'string' ? v.verb.slice(0, 20) : 'unknown'}`);
        if (!fbComment && !igComment && !igMention) return ignore(`${platform}.${field}${platform === 'facebook' && typeof v.item === 'string' ? `.${v.item.slice(0, 20)}` : ''}`);
        const idField = `${item}.value.${igComment ? 'id' : 'comment_id'}`;
        const commentId = idAt(igComment ? v.id : v.comment_id, idField) ?? (igMention ? idAt(v.media_id, `${item}.value.media_id`) : undefined);
        if (commentId === undefined) throw new ContactError(idField, 'is required: a new comment without its id cannot be recognised when it is sent again');
        const timeField = `${item}.value.created_time`;
        const t = when(instantAt(v.created_time, timeField, 'seconds'), timeField, entryTime, entryTimeField, now);
        const from = object<{ id?: unknown; name?: unknown; username?: unknown }>(v.from);
        const fromId = idAt(from?.id ?? (v as { sender_id?: unknown }).sender_id, `${item}.value.${from !== undefined ? 'from.id' : 'sender_id'}`);
        const parentId = idAt(v.parent_id, `${item}.value.parent_id`);
        const origin = { item, time: t.field, id: idField };
        if (isPage(fromId)) {
          if (parentId === undefined) ignore(`${platform}.own-comment`); // the account commenting on its own post: nothing answered
          else actions.push({ kind: 'comment-reply', origin, parentId, at: t.at, externalId: commentId });
          return;
        }
        const name = text(from?.name ?? from?.username ?? (v as { sender_name?: unknown }).sender_name)?.slice(0, MAX_NAME_CHARS);
        const message = text(v.message ?? v.text);
        const postId = idAt(v.post_id ?? object<{ id?: unknown }>(v.media)?.id ?? v.media_id, `${item}.value.${platform === 'facebook' ? 'post_id' : 'media.id'}`);
        const kindWords = igMention ? 'mention' : 'comment';
        actions.push({
          kind: 'open',
          origin,
          input: {
            channel: 'social',
            route: 'customer-services',
            externalId: commentId,
            receivedAt: formatInstant(t.at),
            ...(name !== undefined ? { customer: { name } } : {}),
            subject: name !== undefined ? `${words} ${kindWords} from ${name}` : `${words} ${kindWords}`,
            ...(message !== undefined ? { summary: message.slice(0, SUMMARY_CHARS) } : {}),
            source: {
              platform,
              kind: igMention ? 'mention' : 'comment',
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

    messaging.forEach(([m, item]) => {
      try {
        const ev = object<Messaging & Record<string, unknown>>(m);
        if (ev === undefined) throw new ContactError(item, `must be an object, not ${shown(m)}`);
        // Deliveries, reads, postbacks, reactions, edits: not new messages.
        if (ev.message === undefined) {
          const what = ['message_edit', 'delivery', 'read', 'reaction', 'postback', 'referral', 'optin', 'pass_thread_control', 'take_thread_control'].find((k) => ev[k] !== undefined) ?? 'other';
          ignore(`${platform}.messaging.${what}`);
          return;
        }
        const msg = object<NonNullable<Messaging['message']>>(ev.message);
        if (msg === undefined) throw new ContactError(`${item}.message`, `must be an object, not ${shown(ev.message)}`);
        const idField = `${item}.message.mid`;
        const mid = idAt(msg.mid, idField);
        if (mid === undefined) throw new ContactError(idField, 'is required: a message without its id cannot be recognised when it is sent again');
        if ((msg as { is_deleted?: unknown }).is_deleted === true) {
          const at = instantAt(ev.timestamp, `${item}.timestamp`, 'milliseconds') ?? now;
          actions.push({ kind: 'withdraw', origin: { item, time: `${item}.timestamp`, id: idField }, externalId: mid, at });
          return;
        }
        const sender = object<{ id?: unknown }>(ev.sender);
        const senderId = idAt(sender?.id, `${item}.sender.id`);
        if (senderId === undefined) throw new ContactError(`${item}.sender.id`, 'is required: whose message it is decides whether it is a customer\'s or the page\'s reply');
        const timeField = `${item}.timestamp`;
        const t = when(instantAt(ev.timestamp, timeField, 'milliseconds'), timeField, entryTime, entryTimeField, now);
        const origin = { item, time: t.field, id: idField };
        if (isPage(senderId)) {
          const recipientId = idAt(object<{ id?: unknown }>(ev.recipient)?.id, `${item}.recipient.id`);
          if (recipientId === undefined) ignore(`${platform}.messaging.own-message`);
          else actions.push({ kind: 'message-reply', origin, recipientId, at: t.at, externalId: mid });
          return;
        }
        if (msg.is_echo === true) {
          ignore(`${platform}.messaging.echo`); // an echo of a message sent by another page or app: not the customer's
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
            subject: `${words} message`,
            ...(body !== undefined ? { summary: body.slice(0, SUMMARY_CHARS) } : attachments > 0 ? { summary: `(${attachments} attachment${attachments === 1 ? '' : 's'}, no text)` } : {}),
            source: {
              platform,
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

/** WhatsApp Business: one `messages` change, its customers' messages, the business's own (echoes) and delivery statuses. */
function whatsappChange(ch: FeedChange & { value?: Record<string, unknown> }, item: string, entryPage: string | undefined, entryTime: EntryTime, entryTimeField: string, now: number, actions: Action[], ignore: (kind: string) => void): void {
  const field = typeof ch.field === 'string' ? ch.field.slice(0, 40) : 'missing';
  const v = object<Record<string, unknown>>(ch.value);
  if (v === undefined || (field !== 'messages' && field !== 'smb_message_echoes')) return ignore(`whatsapp.${field}`);
  const business = idAt(object<{ phone_number_id?: unknown }>(v.metadata)?.phone_number_id, `${item}.value.metadata.phone_number_id`);
  const names = new Map<string, string>();
  for (const c of listAt(v.contacts, `${item}.value.contacts`)) {
    const contact = object<{ wa_id?: unknown; profile?: { name?: unknown } }>(c);
    const id = text(contact?.wa_id);
    const name = text(object<{ name?: unknown }>(contact?.profile)?.name);
    if (id !== undefined && name !== undefined) names.set(id, name.slice(0, MAX_NAME_CHARS));
  }
  listAt(v.messages, `${item}.value.messages`).forEach((raw, k) => {
    const path = `${item}.value.messages[${k}]`;
    const m = object<Record<string, unknown>>(raw);
    if (m === undefined) throw new ContactError(path, `must be an object, not ${shown(raw)}`);
    const idField = `${path}.id`;
    const id = idAt(m.id, idField);
    if (id === undefined) throw new ContactError(idField, 'is required: a message without its id cannot be recognised when it is sent again');
    const from = idAt(m.from, `${path}.from`);
    if (from === undefined) throw new ContactError(`${path}.from`, "is required: whose message it is decides whether it is a customer's");
    const type = typeof m.type === 'string' ? m.type.slice(0, 40) : 'unknown';
    // System notices (a number changed) and unsupported or reaction messages are not enquiries.
    if (type === 'system' || type === 'reaction' || type === 'unsupported' || type === 'ephemeral') return ignore(`whatsapp.messages.${type}`);
    const timeField = `${path}.timestamp`;
    const t = when(instantAt(m.timestamp, timeField, 'seconds'), timeField, entryTime, entryTimeField, now);
    const summary = whatsappText(m, type);
    const name = names.get(from);
    actions.push({
      kind: 'open',
      origin: { item: path, time: t.field, id: idField },
      input: {
        channel: 'social',
        route: 'customer-services',
        externalId: id,
        receivedAt: formatInstant(t.at),
        customer: { ...(name !== undefined ? { name } : {}), phone: `+${from.replace(/^\+/, '')}`.slice(0, 40) },
        subject: name !== undefined ? `WhatsApp message from ${name}` : 'WhatsApp message',
        ...(summary !== undefined ? { summary: summary.slice(0, SUMMARY_CHARS) } : {}),
        source: {
          platform: 'whatsapp',
          kind: 'message',
          senderId: from,
          messageType: type,
          ...(business !== undefined ? { businessPhoneId: business } : {}),
          ...(entryPage !== undefined ? { accountId: entryPage } : {}),
          ...(t.note !== undefined ? { note: t.note } : {}),
        },
      },
    });
  });
  // The business's own messages (sent from the WhatsApp Business app alongside the API): replies.
  listAt(v.message_echoes, `${item}.value.message_echoes`).forEach((raw, k) => {
    const path = `${item}.value.message_echoes[${k}]`;
    const m = object<Record<string, unknown>>(raw);
    if (m === undefined) throw new ContactError(path, `must be an object, not ${shown(raw)}`);
    const id = idAt(m.id, `${path}.id`);
    const to = idAt(m.to, `${path}.to`);
    if (id === undefined || to === undefined) throw new ContactError(`${path}.${id === undefined ? 'id' : 'to'}`, 'is required: a reply is recorded against the customer it went to, once');
    const timeField = `${path}.timestamp`;
    const t = when(instantAt(m.timestamp, timeField, 'seconds'), timeField, entryTime, entryTimeField, now);
    actions.push({ kind: 'message-reply', origin: { item: path, time: t.field, id: `${path}.id` }, recipientId: to, at: t.at, externalId: id });
  });
  // Delivery statuses of the business's messages: notes, never contacts; a failed one that was a
  // reply Kept recorded marks that reply undelivered.
  listAt(v.statuses, `${item}.value.statuses`).forEach((raw, k) => {
    const path = `${item}.value.statuses[${k}]`;
    const st = object<{ status?: unknown; id?: unknown; recipient_id?: unknown; timestamp?: unknown; errors?: unknown }>(raw);
    const status = typeof st?.status === 'string' ? st.status.slice(0, 20) : 'unknown';
    const id = idAt(st?.id, `${path}.id`);
    const to = idAt(st?.recipient_id, `${path}.recipient_id`);
    if (status !== 'failed' || id === undefined || to === undefined) return ignore(`whatsapp.statuses.${status}`);
    const error = object<{ code?: unknown; title?: unknown }>(Array.isArray(st?.errors) ? st.errors[0] : undefined);
    const why = [text(error?.code), text(error?.title)].filter(Boolean).join(' ').slice(0, 200);
    const at = instantAt(st?.timestamp, `${path}.timestamp`, 'seconds') ?? now;
    actions.push({ kind: 'undelivered', origin: { item: path, time: `${path}.timestamp`, id: `${path}.id` }, recipientId: to, externalId: id, at, reason: `WhatsApp could not deliver it${why !== '' ? ` (${why})` : ''}` });
  });
}

/** A WhatsApp message's words: its text, a caption, the button or list choice, or what kind of media it is. */
function whatsappText(m: Record<string, unknown>, type: string): string | undefined {
  const part = object<Record<string, unknown>>(m[type]);
  if (type === 'text') return text(part?.body);
  if (type === 'button') return text(part?.text) ?? text(part?.payload);
  if (type === 'interactive') {
    const reply = object<{ title?: unknown; description?: unknown }>(part?.button_reply ?? part?.list_reply);
    const nfm = object<{ body?: unknown; response_json?: unknown }>(part?.nfm_reply);
    const title = text(reply?.title) ?? text(nfm?.body);
    return title === undefined ? '(an interactive reply)' : `${title}${text(reply?.description) !== undefined ? ` — ${text(reply?.description)}` : ''}`;
  }
  if (type === 'location') {
    const place = [text(part?.name), text(part?.address)].filter(Boolean).join(', ');
    return place !== '' ? `(a location: ${place})` : '(a location)';
  }
  const caption = text(part?.caption);
  const filename = text(part?.filename);
  const what = `(${type === 'image' ? 'a photo' : type === 'video' ? 'a video' : type === 'audio' ? 'a voice message or audio' : type === 'document' ? `a document${filename !== undefined ? ` "${filename.slice(0, 200)}"` : ''}` : type === 'sticker' ? 'a sticker' : type === 'contacts' ? 'a shared contact' : `a ${type} message`})`;
  return caption !== undefined ? `${caption} ${what}` : what;
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

  const { actions, ignored: skipped, ignoredKinds } = plan(doc, config, service.now(), refuse);
  let ignored = skipped;
  const withdrawn: string[] = [];
  const ignoreKind = (kind: string) => {
    ignored++;
    ignoredKinds[kind] = (ignoredKinds[kind] ?? 0) + 1;
  };
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
    if (a.kind === 'undelivered') {
      try {
        // The customer's recent social contacts, each asked at once whether this message was its reply.
        const recent = await service.mail.socialContactsOf(a.recipientId, 50);
        const replied = await Promise.all(recent.map(async (id) => (await service.contacts.eventByExternal(id, a.externalId))?.type === 'replied'));
        const rows = recent.filter((_, k) => replied[k] === true);
        if (rows.length === 0) {
          ignoreKind('whatsapp.statuses.failed');
          continue;
        }
        for (const id of rows) {
          const row = (await service.contacts.byId(id))!;
          await service.addEvents(id, [{ type: 'undelivered', reference: a.externalId, reason: a.reason, at: formatInstant(Math.max(a.at, row.receivedAt)), externalId: `failed:${a.externalId}`.slice(0, MAX_ID_CHARS) }]);
          touched[i]!.push(id);
        }
        received++;
      } catch (e) {
        refuse(a.origin.item, e, a.origin);
      }
      continue;
    }
    if (a.kind === 'withdraw') {
      try {
        const row = await service.contacts.byExternal('social', a.externalId);
        if (row === undefined) {
          ignoreKind('deleted-message-not-held');
          continue;
        }
        const at = formatInstant(Math.max(a.at, row.receivedAt));
        await service.addEvents(row.id, [{ type: 'cancelled', reason: 'withdrawn', at, externalId: `deleted:${a.externalId}`.slice(0, MAX_ID_CHARS) }]);
        touched[i]!.push(row.id);
        withdrawn.push(row.id);
        received++;
      } catch (e) {
        refuse(a.origin.item, e, a.origin);
      }
      continue;
    }
    const event = { type: 'replied', at: formatInstant(a.at), externalId: a.externalId };
    try {
      let targets: string[];
      if (a.kind === 'comment-reply') {
        const parent = await service.contacts.byExternal('social', a.parentId);
        targets = parent === undefined ? [] : [parent.id];
      } else {
        // Every message from that customer still awaiting a reply, up to this one: a reply answers the
        // conversation so far. (A resend of a reply already recorded finds none: counted as ignored.)
        targets = await service.contacts.socialMessagesAwaitingReply(a.recipientId, a.at);
      }
      if (targets.length === 0) {
        ignoreKind(a.kind === 'comment-reply' ? 'reply-to-a-comment-not-held' : 'reply-to-no-waiting-message');
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
  return { received, ignored, rejected, contacts: [...new Set(touched.flat())], ignoredKinds, withdrawn };
}

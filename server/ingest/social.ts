// Social (Meta webhook style): comments and private messages open social contacts; the
// organisation's own replies become `replied` events.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import type { IngestService } from './service.js';

/** X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body with the app secret. */
export function signatureValid(raw: Buffer, header: unknown, secret: string): boolean {
  if (secret === '' || typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(raw).digest('hex'));
  const given = Buffer.from(header.slice(7));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface FeedChange {
  field?: string;
  value?: { item?: string; verb?: string; comment_id?: string; post_id?: string; parent_id?: string; from?: { id?: string; name?: string }; message?: string; created_time?: number };
}
interface Messaging {
  sender?: { id?: string };
  recipient?: { id?: string };
  timestamp?: number;
  message?: { mid?: string; text?: string };
}
export interface SocialWebhook {
  object?: string;
  entry?: Array<{ id?: string; time?: number; changes?: FeedChange[]; messaging?: Messaging[] }>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function ingestSocial(service: IngestService, config: Config, doc: SocialWebhook): Promise<{ received: number; ignored: number; contacts: string[] }> {
  let received = 0;
  let ignored = 0;
  const contacts: string[] = [];
  const page = config.socialPageId;
  for (const entry of doc.entry ?? []) {
    for (const ch of entry.changes ?? []) {
      const v = ch.value;
      if (ch.field !== 'feed' || v?.item !== 'comment' || v.verb !== 'add' || !v.comment_id || typeof v.created_time !== 'number') {
        ignored++;
        continue;
      }
      const at = iso(v.created_time * 1000);
      if (page !== '' && v.from?.id === page) {
        const parent = v.parent_id ? service.contacts.byExternal('social', v.parent_id) : undefined;
        if (parent === undefined) {
          ignored++;
          continue;
        }
        await service.addEvents(parent.id, [{ type: 'replied', at, externalId: v.comment_id }]);
        contacts.push(parent.id);
      } else {
        const r = await service.createContact({
          channel: 'social',
          externalId: v.comment_id,
          receivedAt: at,
          customer: v.from?.name ? { name: v.from.name } : {},
          ...(v.message ? { summary: v.message.slice(0, 2000) } : {}),
          subject: 'Facebook comment',
          source: { platform: 'facebook', kind: 'comment', postId: v.post_id ?? null, senderId: v.from?.id ?? null },
        });
        contacts.push(r.contact.id);
      }
      received++;
    }
    for (const m of entry.messaging ?? []) {
      if (!m.message?.mid || typeof m.timestamp !== 'number' || !m.sender?.id) {
        ignored++;
        continue;
      }
      const at = iso(m.timestamp);
      if (page !== '' && m.sender.id === page) {
        const target = m.recipient?.id ? service.contacts.latestOpenSocialMessage(m.recipient.id) : undefined;
        if (target === undefined) {
          ignored++;
          continue;
        }
        await service.addEvents(target, [{ type: 'replied', at, externalId: m.message.mid }]);
        contacts.push(target);
      } else {
        const r = await service.createContact({
          channel: 'social',
          externalId: m.message.mid,
          receivedAt: at,
          ...(m.message.text ? { summary: m.message.text.slice(0, 2000) } : {}),
          subject: 'Facebook message',
          source: { platform: 'facebook', kind: 'message', senderId: m.sender.id },
        });
        contacts.push(r.contact.id);
      }
      received++;
    }
  }
  return { received, ignored, contacts };
}

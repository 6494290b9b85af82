// Email: a raw RFC 5322 message, parsed with mailparser. Message-ID is the key; To/Cc decide the
// route; mail from the organisation that answers a stored message becomes its `replied` event.
import { simpleParser, type AddressObject } from 'mailparser';
import type { Config } from '../config.js';
import { ContactError } from '../domain/model.js';
import { NotFoundError, type ContactView, type IngestService } from './service.js';

function addresses(a: AddressObject | AddressObject[] | undefined): Array<{ address: string; name: string }> {
  const list = a === undefined ? [] : Array.isArray(a) ? a : [a];
  return list.flatMap((o) => o.value).flatMap((v) => (v.address ? [{ address: v.address.toLowerCase(), name: v.name }] : []));
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

export async function ingestEmail(service: IngestService, config: Config, raw: Buffer): Promise<{ created: boolean; contact: ContactView; kind: 'inbound' | 'reply' }> {
  const mail = await simpleParser(raw, { skipHtmlToText: false, skipImageLinks: true });
  const messageId = mail.messageId?.trim();
  if (!messageId) throw new ContactError('Message-ID', 'is required: the message has no Message-ID header');
  const at = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : new Date(service.now()).toISOString();
  const from = addresses(mail.from)[0];
  const org = (address: string) => config.orgDomains.includes(domainOf(address));
  if (from !== undefined && org(from.address)) {
    const refs = [mail.inReplyTo, ...(Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : [])].filter((r): r is string => typeof r === 'string');
    for (const ref of refs.reverse()) {
      const row = service.contacts.byExternal('email', ref.trim());
      if (row === undefined) continue;
      const r = await service.addEvents(row.id, [{ type: 'replied', at, externalId: messageId }]);
      return { created: false, contact: r.contact, kind: 'reply' };
    }
    throw new NotFoundError(`In-Reply-To: the organisation's message ${messageId} answers no stored email (${refs.join(', ') || 'no In-Reply-To or References'})`);
  }
  const recipients = [...addresses(mail.to), ...addresses(mail.cc)];
  let route: 'customer-services' | 'colleague-direct';
  let colleague: string | undefined;
  if (recipients.some((r) => r.address === config.mailbox)) route = 'customer-services';
  else {
    colleague = recipients.find((r) => org(r.address))?.address;
    if (colleague === undefined) throw new ContactError('To', `is neither the customer-services mailbox (${config.mailbox}) nor an address at ${config.orgDomains.join(', ')}`);
    route = 'colleague-direct';
  }
  const text = (mail.text ?? '').trim();
  const r = await service.createContact({
    channel: 'email',
    route,
    externalId: messageId,
    receivedAt: at,
    customer: { ...(from?.name ? { name: from.name } : {}), ...(from ? { email: from.address } : {}) },
    ...(mail.subject ? { subject: mail.subject.slice(0, 1000) } : {}),
    ...(text ? { summary: text.slice(0, 2000) } : {}),
    source: {
      messageId,
      ...(colleague ? { colleague } : {}),
      ...(mail.date ? {} : { note: 'no Date header: receivedAt is when Kept received it' }),
      attachments: mail.attachments.map((a) => ({ filename: a.filename ?? null, contentType: a.contentType, size: a.size })),
    },
  });
  return { ...r, kind: 'inbound' };
}

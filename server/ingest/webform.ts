// Webform submissions: the form type sets the category; a honeypot field drops bots.
import { createHash } from 'node:crypto';
import { ContactError } from '../domain/model.js';
import type { ContactInput } from './service.js';

export const FORM_TYPES = { general: 'general', complaint: 'complaint', feedback: 'feedback', asb: 'asb' } as const;
export const PREFERRED = ['phone', 'email', 'sms', 'letter'] as const;
/** Bots fill every field; people never see this one. */
export const HONEYPOT = 'website';

export type FormFields = Record<string, unknown>;

function field(f: FormFields, name: string, max: number, required = false): string | undefined {
  const v = f[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw new ContactError(name, 'is required');
    return undefined;
  }
  if (typeof v !== 'string') throw new ContactError(name, 'must be text');
  const t = v.trim();
  if (required && t === '') throw new ContactError(name, 'is required');
  if (t.length > max) throw new ContactError(name, `must be at most ${max} characters`);
  return t === '' ? undefined : t;
}

export function isBot(f: FormFields): boolean {
  const v = f[HONEYPOT];
  return typeof v === 'string' && v.trim() !== '';
}

/** Translates a form post into a contact. Throws ContactError naming the form field. */
export function contactFromForm(f: FormFields, now: number): ContactInput {
  const formType = field(f, 'formType', 20) ?? 'general';
  if (!(formType in FORM_TYPES)) throw new ContactError('formType', `must be one of ${Object.keys(FORM_TYPES).join(', ')}`);
  const message = field(f, 'message', 10_000, true)!;
  const preferred = field(f, 'preferredContact', 10);
  if (preferred !== undefined && !(PREFERRED as readonly string[]).includes(preferred)) throw new ContactError('preferredContact', `must be one of ${PREFERRED.join(', ')}`);
  const email = field(f, 'email', 320);
  if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new ContactError('email', 'must be an email address');
  const customer = {
    name: field(f, 'name', 200),
    email,
    phone: field(f, 'phone', 50),
    address: field(f, 'address', 500),
    reference: field(f, 'reference', 100),
    preferredContact: preferred,
    accessibilityNeeds: field(f, 'accessibilityNeeds', 1000),
  };
  const receivedAt = field(f, 'submittedAt', 40) ?? new Date(now).toISOString();
  const subject = field(f, 'subject', 200);
  // Without a submission id, the content is the key: a double-clicked submit is one contact.
  const externalId = field(f, 'submissionId', 200) ?? `form-${createHash('sha256').update(JSON.stringify([formType, message, customer])).digest('hex').slice(0, 32)}`;
  return {
    channel: 'webform',
    category: FORM_TYPES[formType as keyof typeof FORM_TYPES],
    externalId,
    receivedAt,
    customer: Object.fromEntries(Object.entries(customer).filter(([, v]) => v !== undefined)),
    subject: subject ?? `${formType === 'asb' ? 'Anti-social behaviour' : formType[0]!.toUpperCase() + formType.slice(1)} form`,
    summary: message,
    source: { form: formType },
  };
}

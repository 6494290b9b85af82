// Webform submissions: the form type (or a form builder's mapped choice) sets the category; a
// honeypot field on Kept's own public form drops bots; a submission without its own id is keyed by
// its content, so a double-clicked submit is one contact. Files a multipart form carried are listed.
import { createHash } from 'node:crypto';
import { ContactError } from '../domain/model.js';
import { InstantError, parseInstant } from '../domain/time.js';
import type { Category } from '../domain/model.js';
import type { Customer } from '../store/contacts.js';
import { ConflictError, type ContactInput, type ContactView, type IngestService } from './service.js';

/** formType → category (STANDARDS §4). */
export const FORM_TYPES = { general: 'general', complaint: 'complaint', feedback: 'feedback', asb: 'asb' } as const;
export type FormType = keyof typeof FORM_TYPES;
export const PREFERRED = ['phone', 'email', 'sms', 'letter'] as const;
/**
 * Bots fill every field; people never see this one (it is off-screen and hidden from assistive
 * technology). Only Kept's own public form has it, under a name no real form uses: a builder's
 * form posted to the token API may well have a field called `website` (issue 13).
 */
export const HONEYPOT = 'kept_trap_leave_empty';
/** Without a submissionId or submittedAt, the same content again within this window is the same submission. */
export const RESUBMIT_WINDOW_MS = 10 * 60_000;

/** Longest accepted text per field (the customer fields match the contact API's limits). */
export const FIELD_LIMITS = {
  formType: 20,
  name: 200,
  email: 320,
  phone: 50,
  address: 500,
  reference: 100,
  preferredContact: 10,
  accessibilityNeeds: 1000,
  subject: 200,
  message: 10_000,
  submissionId: 200,
  submittedAt: 40,
} as const;
export type FormField = keyof typeof FIELD_LIMITS;

export type FormFields = Record<string, unknown>;

export interface FormSubmission {
  formType: FormType;
  message: string;
  customer: Customer;
  subject?: string;
  submissionId?: string;
  /** The submittedAt field as given (validated); absent: the server's time is used. */
  submittedAt?: string;
  /** A form builder's mapped choice (overrides the form type's category). */
  category?: Category;
  /** Files a multipart post carried: listed on the contact, never stored. */
  files?: Array<{ field: string; filename: string; contentType: string; size: number }>;
}

function text(f: FormFields, name: FormField, required = false): string | undefined {
  const v = f[name];
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
    if (required) throw new ContactError(name, 'is required', 'required');
    return undefined;
  }
  if (typeof v !== 'string') throw new ContactError(name, 'must be text');
  const t = v.trim();
  const max = FIELD_LIMITS[name];
  if (t.length > max) throw new ContactError(name, `must be at most ${max} characters`, 'too-long', { maxLength: max });
  return t;
}

/** True when the honeypot is filled: answer as if accepted, store nothing. */
export function isBot(f: FormFields): boolean {
  const v = f[HONEYPOT];
  return v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');
}

/** Validates a form post. Throws ContactError naming the form's own field. */
export function parseForm(f: FormFields): FormSubmission {
  const formType = (text(f, 'formType') ?? 'general').toLowerCase();
  if (!Object.hasOwn(FORM_TYPES, formType)) throw new ContactError('formType', `must be one of ${Object.keys(FORM_TYPES).join(', ')}`);
  const message = text(f, 'message', true)!;
  const email = text(f, 'email');
  if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new ContactError('email', 'must be an email address, like name@example.com');
  const phone = text(f, 'phone');
  if (phone !== undefined && (phone.match(/\d/g) ?? []).length < 6) throw new ContactError('phone', 'must be a phone number');
  const preferred = text(f, 'preferredContact')?.toLowerCase();
  if (preferred !== undefined && !(PREFERRED as readonly string[]).includes(preferred)) throw new ContactError('preferredContact', `must be one of ${PREFERRED.join(', ')}`);
  const address = text(f, 'address');
  // The way the customer asked to be answered must be one we can use.
  if (preferred === 'email' && email === undefined) throw new ContactError('email', 'is required when the preferred contact is email', 'required');
  if ((preferred === 'phone' || preferred === 'sms') && phone === undefined) throw new ContactError('phone', `is required when the preferred contact is ${preferred}`, 'required');
  if (preferred === 'letter' && address === undefined) throw new ContactError('address', 'is required when the preferred contact is letter', 'required');
  const submittedAt = text(f, 'submittedAt');
  if (submittedAt !== undefined) {
    try {
      parseInstant(submittedAt);
    } catch (e) {
      if (e instanceof InstantError) throw new ContactError('submittedAt', e.message);
      throw e;
    }
  }
  const customer: Record<string, string | undefined> = {
    name: text(f, 'name'),
    email,
    phone,
    address,
    reference: text(f, 'reference'),
    preferredContact: preferred,
    accessibilityNeeds: text(f, 'accessibilityNeeds'),
  };
  const subject = text(f, 'subject');
  const submissionId = text(f, 'submissionId');
  return {
    formType: formType as FormType,
    message,
    customer: Object.fromEntries(Object.entries(customer).filter(([, v]) => v !== undefined)) as Customer,
    ...(subject !== undefined ? { subject } : {}),
    ...(submissionId !== undefined ? { submissionId } : {}),
    ...(submittedAt !== undefined ? { submittedAt } : {}),
  };
}

const TITLES: Record<FormType, string> = { general: 'Question or request', complaint: 'Complaint', feedback: 'Feedback', asb: 'Anti-social behaviour report' };

/** The contact for a submission, with the given idempotency key and arrival instant. */
export function contactFromForm(s: FormSubmission, externalId: string, receivedAt: string): ContactInput {
  return {
    channel: 'webform',
    category: s.category ?? FORM_TYPES[s.formType],
    externalId,
    receivedAt,
    ...(Object.keys(s.customer).length > 0 ? { customer: s.customer } : {}),
    subject: s.subject ?? `${TITLES[s.formType]} (web form)`,
    summary: s.message,
    source: {
      form: s.formType,
      ...(s.submissionId !== undefined ? { submissionId: s.submissionId } : {}),
      ...(s.files !== undefined && s.files.length > 0 ? { files: s.files } : {}),
    },
  };
}

function contentKey(s: FormSubmission, extra: string): string {
  const content = [s.formType, s.subject ?? null, s.message, Object.entries(s.customer).sort(([a], [b]) => a.localeCompare(b)), extra, ...(s.category !== undefined ? [s.category] : [])];
  return `form-${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 40)}`;
}

export type WebformOutcome = { bot: true } | { bot: false; created: boolean; contact: ContactView };

/**
 * Validates and stores a submission (the honeypot is checked after validation, so a bot learns
 * nothing from it). The idempotency key is the submissionId, else a hash of the content and
 * submittedAt. Without submittedAt the server's time is the arrival, and without a submissionId
 * the key is a hash of the content within a 10-minute window: a double-click or a reload-and-resend
 * is the same contact, while the same words sent again another day are a new one.
 */
export async function submitWebform(service: IngestService, fields: FormFields, options: { publicForm?: boolean; category?: Category; files?: FormSubmission['files'] } = {}): Promise<WebformOutcome> {
  const s: FormSubmission = { ...parseForm(fields), ...(options.category !== undefined ? { category: options.category } : {}), ...(options.files !== undefined && options.files.length > 0 ? { files: options.files } : {}) };
  if (options.publicForm === true && isBot(fields)) return { bot: true };
  if (s.submittedAt !== undefined) {
    // Arrival given: the key is the submissionId, else the content and that instant; a replay is exact.
    const key = s.submissionId ?? contentKey(s, new Date(parseInstant(s.submittedAt)).toISOString());
    return { bot: false, ...(await service.createContact(contactFromForm(s, key, s.submittedAt))) };
  }
  if (s.submissionId !== undefined) {
    // Arrival is the server's time: a replay of the same id is judged against the stored arrival.
    const id = s.submissionId;
    const create = async () => {
      const row = await service.contacts.byExternal('webform', id);
      return service.createContact(contactFromForm(s, id, new Date(row?.receivedAt ?? service.now()).toISOString()));
    };
    try {
      return { bot: false, ...(await create()) };
    } catch (e) {
      if (e instanceof ConflictError && (await service.contacts.byExternal('webform', id)) !== undefined) return { bot: false, ...(await create()) };
      throw e;
    }
  }

  const now = service.now();
  const bucket = Math.floor(now / RESUBMIT_WINDOW_MS);
  const stored = async () => {
    for (const b of [bucket, bucket - 1]) {
      const row = await service.contacts.byExternal('webform', contentKey(s, `window:${b}`));
      if (row !== undefined) return { bot: false as const, created: false, contact: (await service.view(row.id))! };
    }
    return undefined;
  };
  const earlier = await stored();
  if (earlier !== undefined) return earlier;
  try {
    return { bot: false, ...(await service.createContact(contactFromForm(s, contentKey(s, `window:${bucket}`), new Date(now).toISOString()))) };
  } catch (e) {
    // Two clicks at once: the second finds the first's contact (same key, a later arrival instant).
    if (e instanceof ConflictError) {
      const again = await stored();
      if (again !== undefined) return again;
    }
    throw e;
  }
}

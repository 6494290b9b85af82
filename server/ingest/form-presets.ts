// Form builders' payloads (issue 13): a field mapping per form source says which field is the
// message, name, email, phone, category (its choice labels mapped to Kept's categories), the
// submission's id and time, and the zone to read a time without offset in. Presets for Contact
// Form 7, Gravity Forms, Typeform and Microsoft Forms (via Power Automate); named mappings in
// KEPT_WEBFORM_MAPPINGS. A mapped payload becomes the plain web form fields submitWebform takes.
import { Ajv } from 'ajv';
import { Type } from 'typebox';
import { CATEGORIES, type Category } from '../domain/model.js';
import { zoneOffset } from '../domain/time.js';
import { ValidationError } from '../errors.js';
import type { FormFields } from './webform.js';

export const PRESETS = ['contact-form-7', 'gravity-forms', 'typeform', 'microsoft-forms'] as const;
export type PresetName = (typeof PRESETS)[number];

const Names = Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 20 })]);
const MappingSchema = Type.Object(
  {
    /** Start from a preset and override its fields. */
    preset: Type.Optional(Type.Union(PRESETS.map((p) => Type.Literal(p)))),
    message: Type.Optional(Names),
    name: Type.Optional(Names),
    /** Joined with a space into the name (Gravity's 1.3 and 1.6). */
    nameParts: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 5 })),
    email: Type.Optional(Names),
    phone: Type.Optional(Names),
    address: Type.Optional(Names),
    reference: Type.Optional(Names),
    subject: Type.Optional(Names),
    category: Type.Optional(Names),
    /** Choice label → Kept category (compared without case); unlisted labels go through the common words (complaint, repair…), else general. */
    categories: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Union(CATEGORIES.map((c) => Type.Literal(c))))),
    submittedAt: Type.Optional(Names),
    submissionId: Type.Optional(Names),
    /** The zone a submission time without an offset is in (default KEPT_WEBFORM_ZONE). */
    zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export interface FormMapping {
  preset?: PresetName;
  message?: string | string[];
  name?: string | string[];
  nameParts?: string[];
  email?: string | string[];
  phone?: string | string[];
  address?: string | string[];
  reference?: string | string[];
  subject?: string | string[];
  category?: string | string[];
  categories?: Record<string, Category>;
  submittedAt?: string | string[];
  submissionId?: string | string[];
  zone?: string;
}

export const PRESET_MAPPINGS: Record<PresetName, FormMapping> = {
  // CF7's default form's field names, as a webhook add-on (e.g. "CF7 to Webhook") posts them.
  'contact-form-7': {
    message: ['your-message', 'message'],
    name: ['your-name', 'name'],
    email: ['your-email', 'email'],
    phone: ['your-phone', 'tel', 'phone'],
    subject: ['your-subject', 'subject'],
    category: ['your-category', 'menu-category', 'topic'],
    submissionId: ['_wpcf7_unit_tag'],
  },
  // The Webhooks add-on's "all fields" body: the entry object, fields by id. date_created is UTC without an offset.
  'gravity-forms': {
    message: ['5', 'message'],
    nameParts: ['1.3', '1.6'],
    name: ['1'],
    email: ['2'],
    phone: ['3'],
    category: ['4'],
    submittedAt: ['date_created'],
    submissionId: ['id'],
    zone: 'UTC',
  },
  // Typeform's webhook (form_response): answers are found by their type (see typeformFields).
  typeform: { message: 'message', name: 'name', email: 'email', phone: 'phone', category: 'category', submittedAt: ['submitted_at'], submissionId: ['token'] },
  // Power Automate: "When a new response is submitted" → "Get response details" → HTTP POST of its body.
  'microsoft-forms': {
    message: ['message', 'Message', 'Your message', 'Details'],
    name: ['name', 'Name', 'Your name'],
    email: ['responder', 'email', 'Email'],
    phone: ['phone', 'Phone', 'Phone number'],
    category: ['category', 'Category', 'What is it about?'],
    submittedAt: ['submitDate'],
    submissionId: ['responseId', 'id'],
    zone: 'UTC',
  },
};

/** Common choice labels → Kept categories (a label containing the word). */
const WORDS: Array<[RegExp, Category]> = [
  [/emergency/i, 'emergency-repair'],
  [/complain/i, 'complaint'],
  [/repair|damp|mould|leak|heating|boiler/i, 'repair'],
  [/anti.?social|\basb\b|noise|neighbour/i, 'asb'],
  [/compliment|thank/i, 'compliment'],
  [/feedback|suggest/i, 'feedback'],
];

export class MappingConfigError extends Error {}

/** KEPT_WEBFORM_MAPPINGS read and checked (a JSON object of named mappings). */
export function parseMappings(json: string): Record<string, FormMapping> {
  if (json.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new MappingConfigError(`is not JSON (${(e as Error).message})`);
  }
  const check = new Ajv({ strict: false }).compile<Record<string, FormMapping>>(Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }), MappingSchema));
  if (!check(doc)) {
    const first = check.errors?.[0];
    throw new MappingConfigError(`${first?.instancePath || '/'}: ${first?.message ?? 'is invalid'}`);
  }
  return doc;
}

/** The mapping a request chose: a preset, a named mapping (itself perhaps extending a preset). */
export function mappingFor(preset: string | undefined, named: string | undefined, mappings: Record<string, FormMapping>): FormMapping | undefined {
  if (named !== undefined) {
    const m = mappings[named];
    if (m === undefined) throw new ValidationError('mapping', `no mapping "${named}" (KEPT_WEBFORM_MAPPINGS has ${Object.keys(mappings).join(', ') || 'none'})`);
    return m.preset !== undefined ? { ...PRESET_MAPPINGS[m.preset], ...m } : m;
  }
  if (preset !== undefined) {
    if (!(PRESETS as readonly string[]).includes(preset)) throw new ValidationError('preset', `must be one of ${PRESETS.join(', ')}`);
    return { ...PRESET_MAPPINGS[preset as PresetName], preset: preset as PresetName };
  }
  return undefined;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** A field's value as text: strings, numbers, and a list's items joined (a multi-choice). */
function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) {
    const parts = v.map(textOf).filter((x): x is string => x !== undefined);
    return parts.length === 0 ? undefined : parts.join(', ');
  }
  return undefined;
}

function pick(body: Json, names: string | string[] | undefined): string | undefined {
  for (const n of typeof names === 'string' ? [names] : (names ?? [])) {
    const v = textOf(body[n]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Typeform's form_response: answers by type (long_text → message, short_text → name, email, phone_number, choice → category). */
function typeformFields(body: Json): Json {
  const r = obj(body.form_response);
  if (r === undefined) throw new ValidationError('form_response', 'is required (a Typeform webhook body)');
  const answers = Array.isArray(r.answers) ? r.answers.map(obj).filter((a): a is Json => a !== undefined) : [];
  const fields = new Map<string, Json>();
  for (const f of Array.isArray(obj(r.definition)?.fields) ? (obj(r.definition)!.fields as unknown[]) : []) {
    const o = obj(f);
    if (o !== undefined && typeof o.id === 'string') fields.set(o.id, o);
  }
  const out: Json = { submitted_at: r.submitted_at, token: r.token };
  const first = (key: string, v: unknown) => {
    if (out[key] === undefined && v !== undefined) out[key] = v;
  };
  for (const a of answers) {
    const field = obj(a.field) ?? {};
    const ref = typeof field.ref === 'string' ? field.ref : undefined;
    const value = a.type === 'choice' ? obj(a.choice)?.label : a.type === 'choices' ? obj(a.choices)?.labels : a[String(a.type)];
    if (ref !== undefined) out[ref] = value; // a named mapping may pick answers by their ref
    const fieldType = String(field.type ?? fields.get(String(field.id))?.type ?? '');
    if (a.type === 'email') first('email', value);
    else if (a.type === 'phone_number') first('phone', value);
    else if (a.type === 'choice' || a.type === 'choices') first('category', value);
    else if (a.type === 'text' && fieldType === 'long_text') first('message', value);
    else if (a.type === 'text' && fieldType === 'short_text') first('name', value);
  }
  return out;
}

/** A time without an offset (`2026-03-02 10:15:00`, `3/2/2026 10:15:00 AM`) in a zone → ISO-8601 with Z; one with an offset as given. */
export function instantIn(text: string, zone: string, field: string): string {
  const t = text.trim();
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(t) && /^\d{4}-\d{2}-\d{2}T/.test(t)) return t;
  let parts: number[] | undefined;
  const iso = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$/.exec(t);
  if (iso !== null) parts = [+iso[1]!, +iso[2]!, +iso[3]!, +iso[4]!, +iso[5]!, +(iso[6] ?? 0)];
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4}),? (\d{1,2}):(\d{2})(?::(\d{2}))? ?(AM|PM)?$/i.exec(t);
  if (us !== null) {
    let h = +us[4]!;
    const ampm = us[7]?.toUpperCase();
    if (ampm === 'PM' && h < 12) h += 12;
    if (ampm === 'AM' && h === 12) h = 0;
    parts = [+us[3]!, +us[1]!, +us[2]!, h, +us[5]!, +(us[6] ?? 0)];
  }
  if (parts === undefined) throw new ValidationError(field, `"${t.slice(0, 40)}" is not a date and time Kept can read (YYYY-MM-DD HH:MM:SS, M/D/YYYY h:mm:ss AM, or ISO-8601 with an offset)`);
  const [y, mo, d, h, mi, s] = parts as [number, number, number, number, number, number];
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  if (Number.isNaN(local) || new Date(local).getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw new ValidationError(field, `"${t}" is not a real date and time`);
  const utc = local - zoneOffset(zone, local - zoneOffset(zone, local));
  return new Date(utc).toISOString();
}

export function categoryOf(label: string, map: Record<string, Category> | undefined): Category {
  const exact = Object.entries(map ?? {}).find(([k]) => k.toLowerCase() === label.trim().toLowerCase());
  if (exact !== undefined) return exact[1];
  if ((CATEGORIES as readonly string[]).includes(label.trim().toLowerCase())) return label.trim().toLowerCase() as Category;
  return WORDS.find(([re]) => re.test(label))?.[1] ?? 'general';
}

/** The mapped payload as Kept's own web form fields (names of the token API), plus the category it chose. */
export function mapForm(body: FormFields, m: FormMapping, defaultZone: string): { fields: FormFields; category?: Category } {
  const src = m.preset === 'typeform' ? typeformFields(body) : (body as Json);
  const fields: FormFields = {};
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined) fields[k] = v;
  };
  set('message', pick(src, m.message ?? 'message'));
  const parts = (m.nameParts ?? []).map((n) => textOf(src[n])).filter((x): x is string => x !== undefined);
  set('name', parts.length > 0 ? parts.join(' ') : pick(src, m.name ?? 'name'));
  set('email', pick(src, m.email ?? 'email'));
  set('phone', pick(src, m.phone ?? 'phone'));
  set('address', pick(src, m.address ?? []));
  set('reference', pick(src, m.reference ?? []));
  set('subject', pick(src, m.subject ?? []));
  set('submissionId', pick(src, m.submissionId ?? []));
  const at = pick(src, m.submittedAt ?? []);
  if (at !== undefined) fields.submittedAt = instantIn(at, m.zone ?? defaultZone, firstName(m.submittedAt) ?? 'submittedAt');
  const label = pick(src, m.category ?? []);
  if (label === undefined) return { fields };
  const category = categoryOf(label, m.categories);
  return { fields, category };
}

const firstName = (n: string | string[] | undefined) => (typeof n === 'string' ? n : n?.[0]);

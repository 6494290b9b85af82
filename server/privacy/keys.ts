// A person's keys (issue 17): the normalised forms of a customer's email, phone, name and tenancy
// reference, stored in `person_keys` with the contact so one person is found by an index seek. The
// migration that backfilled the table (db/migrations/0006_privacy.sql) normalises the same way.
import type { Customer } from '../store/contacts.js';

export const KEY_KINDS = ['email', 'phone', 'name', 'reference'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

export interface PersonKey {
  kind: KeyKind;
  value: string;
}

// ASCII case only, as SQLite's lower() and upper(): the backfill and the writes agree.
const lowerAscii = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const upperAscii = (s: string) => s.replace(/[a-z]/g, (c) => c.toUpperCase());

export function normaliseEmail(raw: string): string | null {
  const s = lowerAscii(raw.trim());
  return s === '' ? null : s;
}

/**
 * UK numbers in national form: `07700 900123`, `+44 7700 900123`, `+44 (0)7700-900123` and
 * `0044 7700 900123` are all `07700900123`. Other countries keep their `+` and digits. Anything
 * with fewer than 6 digits is not a phone number.
 */
export function normalisePhone(raw: string): string | null {
  const s = raw.trim().replace(/\(0\)/g, '');
  const plus = s.startsWith('+');
  let d = s.replace(/\D/g, '');
  if (d.length < 6) return null;
  if (plus) d = d.startsWith('44') ? `0${d.slice(2)}` : `+${d}`;
  else if (d.startsWith('0044')) d = `0${d.slice(4)}`;
  return d;
}

export function normaliseName(raw: string): string | null {
  const s = lowerAscii(raw).replace(/\s+/g, ' ').trim();
  return s === '' ? null : s;
}

export function normaliseReference(raw: string): string | null {
  const s = upperAscii(raw.trim().replace(/\s+/g, ''));
  return s === '' ? null : s;
}

export function normalise(kind: KeyKind, raw: string): string | null {
  switch (kind) {
    case 'email':
      return normaliseEmail(raw);
    case 'phone':
      return normalisePhone(raw);
    case 'name':
      return normaliseName(raw);
    case 'reference':
      return normaliseReference(raw);
  }
}

/** The keys a contact's customer is found by: the whole name and each word of two letters or more. */
export function personKeys(customer: Customer | null | undefined): PersonKey[] {
  if (customer === null || customer === undefined) return [];
  const keys: PersonKey[] = [];
  const add = (kind: KeyKind, value: string | null) => {
    if (value !== null && !keys.some((k) => k.kind === kind && k.value === value)) keys.push({ kind, value });
  };
  if (typeof customer.email === 'string') add('email', normaliseEmail(customer.email));
  if (typeof customer.phone === 'string') add('phone', normalisePhone(customer.phone));
  if (typeof customer.reference === 'string') add('reference', normaliseReference(customer.reference));
  if (typeof customer.name === 'string') {
    const name = normaliseName(customer.name);
    if (name !== null) {
      if (name.length >= 2) add('name', name);
      for (const w of name.split(' ')) if (w.length >= 2) add('name', w);
    }
  }
  return keys;
}

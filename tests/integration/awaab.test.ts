// Awaab's Law through the real app: a contact carrying LiveWest's and Awaab's Law's clocks, the
// repairs side's events through the API, the suggestion at the door and its confirmation by an
// advisor (audited with who and when), a raise to emergency, the contact page's explanations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_BANK_HOLIDAYS } from '../../server/domain/defaults.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp;
let now = Date.parse('2026-03-02T12:00:00Z');
let ann: Record<string, string>;

beforeAll(async () => {
  t = await startTestApp({}, { now: () => now });
  ann = (await t.signIn('advisor', { email: 'ann@kept.example', queues: ['customer-services'] })).headers;
});
afterAll(async () => {
  await t.close();
});

async function call(method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: unknown) {
  const r = await t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as Json }) });
  return { status: r.statusCode, body: r.json() as Json };
}

const byStandard = (clocks: Json[]) => Object.fromEntries(clocks.map((c) => [c.standard, c]));

describe("Awaab's Law through the API", () => {
  it('an integration sets the category: the contact carries LiveWest and Awaab clocks, each naming its pack version; the repairs side moves them', async () => {
    // Received Mon 2 March 2026 09:00 GMT by email, damp and mould confirmed by the repairs system.
    const created = await call('POST', '/api/v1/contacts', t.auth, {
      channel: 'email',
      category: 'hazard-significant',
      externalId: 'awaab-api-1',
      receivedAt: '2026-03-02T09:00:00Z',
      subject: 'Black mould in the bedroom',
      customer: { name: 'Cara Tenant', vulnerability: 'Child with asthma' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    let c = byStandard(created.body.clocks);
    // email-reply: 1 customer-services working day → Tue 3 March 09:00. Investigation: the end of the
    // 10th working day after Mon 2 March (Tue 3 … Mon 16 March) → 2026-03-17T00:00Z.
    expect(c['email-reply']).toMatchObject({ standardVersion: 'livewest-1', dueAt: '2026-03-03T09:00:00.000Z' });
    expect(c['awaab-significant-investigate']).toMatchObject({ standardVersion: 'awaab-1', calendar: 'awaab-working-days', dueAt: '2026-03-17T00:00:00.000Z', status: 'running' });
    // Already a hazard: nothing to suggest.
    expect(created.body.hazardSuggestion).toBeNull();

    // The repairs side: investigation started and concluded (Wed 4 March 14:00, safety and further work found).
    const events = await call('POST', `/api/v1/contacts/${id}/events`, t.auth, [
      { type: 'investigation-started', at: '2026-03-04T10:00:00Z', externalId: 'rep-1' },
      { type: 'investigation-concluded', at: '2026-03-04T14:00:00Z', safetyWork: true, furtherWork: true, externalId: 'rep-2' },
      { type: 'replied', at: '2026-03-02T15:00:00Z' },
    ]);
    expect(events.status, JSON.stringify(events.body)).toBe(200);
    c = byStandard(events.body.contact.clocks);
    expect(c['email-reply']!.status).toBe('met');
    expect(c['awaab-significant-investigate']).toMatchObject({ status: 'met', fulfilledAt: '2026-03-04T14:00:00.000Z' });
    // 3 working days after Wed 4 March: Thu 5, Fri 6, Mon 9 → 2026-03-10T00:00Z; 5: … Wed 11 → 2026-03-12T00:00Z.
    expect(c['awaab-summary']).toMatchObject({ dueAt: '2026-03-10T00:00:00.000Z' });
    expect(c['awaab-significant-make-safe']).toMatchObject({ dueAt: '2026-03-12T00:00:00.000Z' });
    expect(c['awaab-further-work-start']).toMatchObject({ dueAt: '2026-03-12T00:00:00.000Z' });

    // Bad repairs-side input is refused naming the field.
    const bad = await call('POST', `/api/v1/contacts/${id}/events`, t.auth, { type: 'investigation-concluded', at: '2026-03-05T10:00:00Z', furtherWork: 'maybe' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('furtherWork');

    // The stored clocks: one row per standard, both packs, keyed (contact_id, standard).
    const stored = t.connection.sqlite.prepare('SELECT standard, standard_version FROM clocks WHERE contact_id = ? ORDER BY standard').all(id) as Array<{ standard: string; standard_version: string }>;
    expect(stored).toEqual([
      { standard: 'awaab-further-work-start', standard_version: 'awaab-1' },
      { standard: 'awaab-significant-investigate', standard_version: 'awaab-1' },
      { standard: 'awaab-significant-make-safe', standard_version: 'awaab-1' },
      { standard: 'awaab-summary', standard_version: 'awaab-1' },
      { standard: 'email-reply', standard_version: 'livewest-1' },
    ]);

    // The explain route works for an Awaab clock.
    const explained = await call('GET', `/api/v1/contacts/${id}/clocks/awaab-summary/explain`, t.auth);
    expect(explained.status, JSON.stringify(explained.body)).toBe(200);
    expect(explained.body).toMatchObject({ dueAt: '2026-03-10T00:00:00.000Z', rule: 'Written summary of the findings within 3 working days of the investigation ending' });
    // Counted in whole working days after the day the investigation ended (Wed 4 March): Thu 5, Fri 6, Mon 9.
    expect(explained.body.steps.filter((s: Json) => s.kind === 'working-day').map((s: Json) => s.date)).toEqual(['2026-03-05', '2026-03-06', '2026-03-09']);
    expect(explained.body.text).toContain('Target: the end of the 3rd working day after 2026-03-04 (that day itself does not count).');
  });

  it('words at the door suggest a hazard but start no clock; an advisor confirms it, audited with who and when; raising it to an emergency makes the clocks follow', async () => {
    now = Date.parse('2026-03-09T10:00:00Z');
    ann = (await t.signIn('advisor', { email: 'ann2@kept.example', queues: ['customer-services'] })).headers;
    const created = await call('POST', '/api/v1/contacts', t.auth, {
      channel: 'webform',
      externalId: 'awaab-door-1',
      receivedAt: '2026-03-09T09:00:00Z',
      subject: 'Mould and condensation in the kitchen',
      summary: 'The walls are wet every morning.',
      customer: { name: 'Dev Tenant', vulnerability: 'Baby in the home' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect(created.body.category).toBe('general');
    expect(created.body.hazardSuggestion).toEqual({ category: 'hazard-significant', hazard: 'damp-and-mould', words: ['Mould', 'condensation'], packVersion: 'awaab-1' });
    expect(created.body.clocks.map((c: Json) => c.standard)).toEqual(['webform-reply']);

    // The contact page shows the suggestion too.
    const page = await call('GET', `/api/v1/contacts/${id}/page`, ann);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    expect(page.body.contact.hazardSuggestion).toMatchObject({ category: 'hazard-significant' });

    now = Date.parse('2026-03-09T10:30:00Z');
    const confirmed = await call('POST', `/api/v1/contacts/${id}/actions`, ann, { action: 'confirm-hazard', category: 'hazard-significant' });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    const c = byStandard(confirmed.body.contact.clocks);
    // A recategorisation: the investigation runs from the report (Mon 9 March 09:00): 10 working days
    // after Mon 9 March (Tue 10 … Mon 23 March) → 2026-03-24T00:00Z.
    expect(c['awaab-significant-investigate']).toMatchObject({ startedAt: '2026-03-09T09:00:00.000Z', dueAt: '2026-03-24T00:00:00.000Z' });
    expect(confirmed.body.contact.category).toBe('hazard-significant');
    expect(confirmed.body.contact.hazardSuggestion).toBeNull();
    const event = confirmed.body.contact.events.find((e: Json) => e.type === 'recategorised');
    expect(event).toMatchObject({ category: 'hazard-significant', by: 'ann2@kept.example', at: '2026-03-09T10:30:00.000Z' });
    const audit = t.connection.sqlite.prepare("SELECT actor, at, detail FROM audit WHERE action = 'contact.confirm-hazard' ORDER BY id DESC LIMIT 1").get() as { actor: string; at: number; detail: string };
    expect(audit.actor).toBe('ann2@kept.example');
    expect(audit.at).toBe(Date.parse('2026-03-09T10:30:00Z'));
    expect(JSON.parse(audit.detail)).toMatchObject({ contactId: id, category: 'hazard-significant', from: 'general', suggested: { category: 'hazard-significant', hazard: 'damp-and-mould' } });

    // Confirming the same again is a conflict; a bad category is refused.
    expect((await call('POST', `/api/v1/contacts/${id}/actions`, ann, { action: 'confirm-hazard', category: 'hazard-significant' })).status).toBe(409);
    expect((await call('POST', `/api/v1/contacts/${id}/actions`, ann, { action: 'confirm-hazard', category: 'general' })).status).toBe(400);

    // Raised to an emergency on Mon 9 March 11:00: emergency investigation due 24 h later.
    now = Date.parse('2026-03-09T11:00:00Z');
    const raised = await call('POST', `/api/v1/contacts/${id}/actions`, ann, { action: 'confirm-hazard', category: 'hazard-emergency', reason: 'baby coughing, mould spreading' });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    const r = byStandard(raised.body.contact.clocks);
    expect(raised.body.contact.category).toBe('hazard-emergency');
    expect(r['awaab-significant-investigate']).toMatchObject({ status: 'cancelled', reason: 'superseded' });
    expect(r['awaab-emergency-investigate']).toMatchObject({ startedAt: '2026-03-09T11:00:00.000Z', dueAt: '2026-03-10T11:00:00.000Z', status: 'running' });
    expect(r['webform-reply']).toMatchObject({ standardVersion: 'livewest-1' });
    expect(raised.body.contact.events.at(-1)).toMatchObject({ type: 'severity-raised', by: 'ann2@kept.example' });
  });

  it('an advisor may judge the suggestion not a hazard: recorded with who and when, and the suggestion goes', async () => {
    now = Date.parse('2026-03-09T11:10:00Z');
    const created = await call('POST', '/api/v1/contacts', t.auth, { channel: 'email', externalId: 'awaab-dismiss', receivedAt: '2026-03-09T11:00:00Z', subject: 'Mould on the shower sealant', customer: { name: 'Eli Tenant' } });
    expect(created.body.hazardSuggestion).toMatchObject({ category: 'hazard-significant' });
    const id = created.body.id as string;
    const dismissed = await call('POST', `/api/v1/contacts/${id}/actions`, ann, { action: 'dismiss-hazard', reason: 'cosmetic: sealant to replace' });
    expect(dismissed.status, JSON.stringify(dismissed.body)).toBe(200);
    expect(dismissed.body.contact.hazardSuggestion).toBeNull();
    expect(dismissed.body.contact.clocks.map((c: Json) => c.standard)).toEqual(['email-reply']);
    expect(dismissed.body.contact.events.at(-1)).toMatchObject({ type: 'hazard-dismissed', reason: 'cosmetic: sealant to replace', by: 'ann2@kept.example', at: '2026-03-09T11:10:00.000Z' });
    const audit = t.connection.sqlite.prepare("SELECT actor, detail FROM audit WHERE action = 'contact.dismiss-hazard' ORDER BY id DESC LIMIT 1").get() as { actor: string; detail: string };
    expect(audit.actor).toBe('ann2@kept.example');
    expect(JSON.parse(audit.detail)).toMatchObject({ contactId: id, suggested: { category: 'hazard-significant', hazard: 'damp-and-mould' } });
    // Nothing left to dismiss; it can still be confirmed later if the advisor changes their mind.
    expect((await call('POST', `/api/v1/contacts/${id}/actions`, ann, { action: 'dismiss-hazard' })).status).toBe(409);
    const confirmed = await call('POST', `/api/v1/contacts/${id}/actions`, ann, { action: 'confirm-hazard', category: 'hazard-significant' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.contact.clocks.map((c: Json) => c.standard)).toEqual(['email-reply', 'awaab-significant-investigate']);
  });

  it('a hazard reported before 27 October 2025 carries no Awaab clock', async () => {
    const created = await call('POST', '/api/v1/contacts', t.auth, { channel: 'email', category: 'hazard-emergency', externalId: 'awaab-old', receivedAt: '2025-10-20T09:00:00Z' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.clocks.map((c: Json) => c.standard)).toEqual(['email-reply']);
  });

  it('a bank holiday proclaimed later moves a running Awaab clock (statutory working days follow the imported holidays)', async () => {
    now = Date.parse('2026-03-09T11:30:00Z');
    // Reported Thu 12 March 2026: 10 working days after it are Fri 13 … Thu 26 March → 2026-03-27T00:00Z.
    const created = await call('POST', '/api/v1/contacts', t.auth, { channel: 'email', category: 'hazard-significant', externalId: 'awaab-holiday', receivedAt: '2026-03-12T09:00:00Z' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(byStandard(created.body.clocks)['awaab-significant-investigate']!.dueAt).toBe('2026-03-27T00:00:00.000Z');
    // A bank holiday on Wed 18 March: one working day fewer in the window → the end of Fri 27 March (GMT;
    // summer time starts on the 29th) = 2026-03-28T00:00Z.
    const division = 'england-and-wales';
    const events = [...BUNDLED_BANK_HOLIDAYS[division]!.events, { date: '2026-03-18', title: 'Proclaimed holiday', notes: '', bunting: true }];
    const imported = await call('POST', '/api/v1/holidays/import', t.auth, { [division]: { division, events } });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    const after = await call('GET', `/api/v1/contacts/${created.body.id}`, t.auth);
    expect(byStandard(after.body.clocks)['awaab-significant-investigate']!.dueAt).toBe('2026-03-28T00:00:00.000Z');
  });
});

// The subject access export (issue 17): everything Kept holds on a person's contacts as data (JSON),
// and the same as a readable, printable HTML page (self-contained: its own styles, no scripts).
import { PACKS } from '../domain/standards.js';
import type { ContactView } from '../ingest/present.js';
import type { HoldRow } from '../store/privacy.js';
import type { AlertRow } from '../store/queue.js';

/** Whether a deadline was kept, in words a tenant reads. */
export function kept(status: string): 'kept' | 'not kept' | 'still open' | 'not applicable' {
  if (status === 'met' || status === 'met-extended') return 'kept';
  if (status === 'missed' || status === 'missed-extended' || status === 'breached') return 'not kept';
  if (status === 'running' || status === 'at-risk' || status === 'paused') return 'still open';
  return 'not applicable';
}

export interface SubjectAccessExport {
  kind: 'kept-subject-access-export';
  version: 1;
  generatedAt: string;
  generatedBy: string;
  contacts: Array<
    ContactView & {
      privacy: 'as received' | 'messages removed' | 'anonymised';
      deadlines: Array<{ standard: string; status: string; startedAt: string; dueAt: string | null; endedAt: string | null; kept: ReturnType<typeof kept> }>;
      alerts: Array<{ kind: string; note: string | null; raisedAt: string; raisedBy: string; actionedAt: string | null; actionedBy: string | null; action: string | null }>;
      holds: Array<{ reason: string; placedAt: string; releasedAt: string | null }>;
    }
  >;
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
const STAGES = ['as received', 'messages removed', 'anonymised'] as const;

export function presentExport(o: {
  generatedAt: number;
  generatedBy: string;
  views: ContactView[];
  alerts: Map<string, AlertRow[]>;
  holds: HoldRow[];
  privacy: Map<string, number>;
}): SubjectAccessExport {
  return {
    kind: 'kept-subject-access-export',
    version: 1,
    generatedAt: iso(o.generatedAt),
    generatedBy: o.generatedBy,
    contacts: [...o.views]
      .sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : 0))
      .map((v) => ({
        ...v,
        privacy: STAGES[o.privacy.get(v.id) ?? 0] ?? 'as received',
        deadlines: v.clocks.map((c) => ({ standard: c.standard, status: c.status, startedAt: c.startedAt, dueAt: c.dueAt, endedAt: c.endedAt, kept: kept(c.status) })),
        alerts: (o.alerts.get(v.id) ?? []).map((a) => ({
          kind: a.kind,
          note: a.note,
          raisedAt: iso(a.raisedAt),
          raisedBy: a.raisedBy,
          actionedAt: isoOrNull(a.actionedAt),
          actionedBy: a.actionedBy,
          action: a.action,
        })),
        holds: o.holds.filter((h) => h.contactId === v.id).map((h) => ({ reason: h.reason, placedAt: iso(h.placedAt), releasedAt: isoOrNull(h.releasedAt) })),
      })),
  };
}

/** Each standard's title in words ("Answer calls within 5 minutes"), from the packs. */
const TITLES = new Map(PACKS.flatMap((p) => p.standards.map((s) => [s.id, s.title] as const)));

const escape = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** 2026-03-02T09:15:00.000Z → 2 Mar 2026, 09:15 (UTC) */
function when(value: string | null): string {
  if (value === null) return '—';
  const d = new Date(value);
  return `${d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })}, ${d.toISOString().slice(11, 16)}`;
}

const CUSTOMER_FIELDS: Array<[string, string]> = [
  ['name', 'Name'],
  ['email', 'Email'],
  ['phone', 'Phone'],
  ['address', 'Address'],
  ['reference', 'Tenancy reference'],
  ['preferredContact', 'Preferred contact'],
  ['accessibilityNeeds', 'Accessibility needs'],
  ['vulnerability', 'Vulnerability'],
  ['safeguarding', 'Safeguarding concern'],
];

const STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;margin:2rem auto;max-width:52rem;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-top:2px solid #1b1f24;padding-top:.75rem}
h3{font-size:1rem;margin:1rem 0 .25rem}p.meta{color:#4a5360;margin:0 0 1rem}
dl{display:grid;grid-template-columns:12rem 1fr;gap:.2rem 1rem;margin:.25rem 0}dt{color:#4a5360}dd{margin:0;white-space:pre-wrap}
table{border-collapse:collapse;width:100%;margin:.25rem 0}th,td{text-align:left;border-bottom:1px solid #c9ced6;padding:.25rem .5rem .25rem 0;vertical-align:top}
.kept{color:#1a6b34;font-weight:600}.not-kept{color:#a3231a;font-weight:600}
table.events td:first-child{width:11rem;white-space:nowrap}table.events td:nth-child(2){width:10rem}
section.contact{break-inside:avoid-page}@media print{body{margin:0;max-width:none}h2{break-after:avoid}}
`;

export function exportHtml(x: SubjectAccessExport): string {
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Subject access export</title><style>${STYLE}</style></head><body>`);
  parts.push('<h1>Your contacts with us</h1>');
  parts.push(`<p class="meta">What our contact-centre system (Kept) holds about you: ${x.contacts.length} contact${x.contacts.length === 1 ? '' : 's'}. Produced ${escape(when(x.generatedAt))} (UTC).</p>`);
  for (const c of x.contacts) {
    parts.push(`<section class="contact"><h2>${escape(c.channel)} contact, ${escape(when(c.receivedAt))}</h2>`);
    parts.push('<dl>');
    parts.push(`<dt>Reference</dt><dd>${escape(c.id)}</dd><dt>About</dt><dd>${escape(c.category)} (${escape(c.route)})</dd>`);
    if (c.subject !== null) parts.push(`<dt>Subject</dt><dd>${escape(c.subject)}</dd>`);
    if (c.summary !== null) parts.push(`<dt>What you told us</dt><dd>${escape(c.summary)}</dd>`);
    const customer = (c.customer ?? {}) as Record<string, unknown>;
    for (const [k, label] of CUSTOMER_FIELDS) if (customer[k] !== undefined && customer[k] !== null) parts.push(`<dt>${label}</dt><dd>${escape(customer[k] === true ? 'yes' : customer[k])}</dd>`);
    if (c.assignee !== null) parts.push(`<dt>Handled by</dt><dd>${escape(c.assignee)}</dd>`);
    if (c.privacy !== 'as received') parts.push(`<dt>Personal data</dt><dd>${escape(c.privacy)}</dd>`);
    parts.push('</dl>');
    if (c.deadlines.length > 0) {
      parts.push('<h3>Our deadlines</h3><table><thead><tr><th scope="col">Our promise</th><th scope="col">Started</th><th scope="col">Due</th><th scope="col">Ended</th><th scope="col">Kept?</th></tr></thead><tbody>');
      for (const d of c.deadlines) {
        const cls = d.kept === 'kept' ? 'kept' : d.kept === 'not kept' ? 'not-kept' : '';
        parts.push(`<tr><td>${escape(TITLES.get(d.standard) ?? d.standard)}</td><td>${escape(when(d.startedAt))}</td><td>${escape(when(d.dueAt))}</td><td>${escape(when(d.endedAt))}</td><td class="${cls}">${escape(d.kept)}</td></tr>`);
      }
      parts.push('</tbody></table>');
    }
    if (c.events.length > 0) {
      parts.push('<h3>What happened</h3><table class="events"><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Details</th></tr></thead><tbody>');
      for (const e of c.events) {
        const details = Object.entries(e)
          .filter(([k]) => k !== 'type' && k !== 'at' && k !== 'seq')
          .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join('; ');
        parts.push(`<tr><td>${escape(when(e.at))}</td><td>${escape(e.type)}</td><td>${escape(details)}</td></tr>`);
      }
      parts.push('</tbody></table>');
    }
    if (c.alerts.length > 0) {
      parts.push('<h3>Notes</h3><table><thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Note</th><th scope="col">Action taken</th></tr></thead><tbody>');
      for (const a of c.alerts) parts.push(`<tr><td>${escape(when(a.raisedAt))}</td><td>${escape(a.kind)}</td><td>${escape(a.note ?? '—')}</td><td>${escape(a.action ?? '—')}</td></tr>`);
      parts.push('</tbody></table>');
    }
    if (c.holds.length > 0) parts.push(`<p>Kept for a legal reason: ${c.holds.map((h) => escape(h.reason)).join('; ')}.</p>`);
    parts.push('</section>');
  }
  parts.push('</body></html>');
  return parts.join('');
}

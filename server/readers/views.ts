// What a reader thread sent back, presented on this thread with its calendars (the ones the last
// calendar edit left here): the same views IngestService.view and views make from its own reads.
import type { CalendarSet } from '../domain/clocks.js';
import { contactView, type ContactView } from '../ingest/present.js';
import type { ContactParts, ViewParts } from './reads.js';

export function viewsOf(parts: ViewParts, calendars: CalendarSet, now: number, rows = parts.rows): ContactView[] {
  return rows.map((r) => contactView(r, parts.events.get(r.id) ?? [], (parts.clocks.get(r.id) ?? []).map((c) => c.detail), calendars, now));
}

export function viewOf(parts: ContactParts, calendars: CalendarSet, now: number): ContactView {
  return contactView(parts.row, parts.events, parts.clocks.map((c) => c.detail), calendars, now);
}

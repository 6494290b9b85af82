// A contact a reader thread sent back as plain rows, presented on this thread with its calendars (the
// ones the last calendar edit left here): the contact page, which explains each clock here as well.
import type { CalendarSet } from '../domain/clocks.js';
import { contactView, type ContactView } from '../ingest/present.js';
import type { ContactParts } from './reads.js';

export function viewOf(parts: ContactParts, calendars: CalendarSet, now: number): ContactView {
  return contactView(parts.row, parts.events, parts.clocks.map((c) => c.detail), calendars, now);
}

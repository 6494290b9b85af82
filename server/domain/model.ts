// The contact centre's nouns: contacts, events and clocks (STANDARDS §4), as plain data.
import { ValidationError } from '../errors.js';

export const CHANNELS = ['phone', 'email', 'webform', 'social', 'voicemail'] as const;
export type Channel = (typeof CHANNELS)[number];

export const ROUTES = ['customer-services', 'colleague-direct', 'out-of-hours'] as const;
export type Route = (typeof ROUTES)[number];

export const CATEGORIES = [
  'general',
  'complaint',
  'emergency-repair',
  'repair',
  'asb',
  'feedback',
  'compliment',
  // Awaab's Law (server/domain/packs/awaab.ts): a hazard in the home, by severity.
  'hazard-emergency',
  'hazard-significant',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const EVENT_TYPES = [
  'answered',
  'abandoned',
  'callback-requested',
  'callback-connected',
  'replied',
  'acknowledged',
  'resolved',
  'attended',
  'appointment-arranged',
  'paused',
  'resumed',
  'extended',
  'recategorised',
  'cancelled',
  'assigned',
  'escalated',
  'identity-verified',
  // Awaab's Law: what the repairs side sends (server/domain/packs/awaab.ts).
  'investigation-started',
  'investigation-concluded',
  'summary-sent',
  'made-safe',
  'further-work-started',
  'temporary-accommodation-offered',
  'severity-raised',
  // An advisor judged the hazard suggested by the contact's words not to be one (no clock effect).
  'hazard-dismissed',
  /** The centre's reply (its externalId in `reference`) bounced: it no longer fulfils anything. */
  'undelivered',
  /** Automatic mail about the contact (out-of-office, read receipt, delay warning): kept, inert. */
  'automatic-mail',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const CANCEL_REASONS = ['spam', 'duplicate', 'withdrawn'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

export interface ContactEvent {
  type: EventType;
  at: number;
  /** Arrival order; breaks ties between events at the same instant. */
  seq: number;
  externalId?: string;
  clock?: string;
  reason?: string;
  until?: number;
  reference?: string;
  owner?: string;
  category?: Category;
  assignee?: string;
  appointmentArranged?: boolean;
  /** Complaint stage (1 or 2) for packs with staged complaints; 1 when absent. */
  stage?: number;
  /** investigation-concluded: relevant safety work is needed (absent means yes: the make-safe clock starts). */
  safetyWork?: boolean;
  /** investigation-concluded: supplementary preventative (further) work is needed (only `true` starts its clock). */
  furtherWork?: boolean;
  /** Who did it: an advisor's email (a person's action in Kept) or a source system's agent. */
  by?: string;
}

export interface Contact {
  id: string;
  channel: Channel;
  route: Route;
  category: Category;
  externalId?: string;
  receivedAt: number;
  events: ContactEvent[];
}

export const ENDED_STATUSES = [
  'met',
  'missed',
  'met-extended',
  'missed-extended',
  'abandoned',
  'abandoned-short',
  'cancelled',
] as const;
export const RUNNING_STATUSES = ['running', 'at-risk', 'breached', 'paused'] as const;
export type RunningStatus = (typeof RUNNING_STATUSES)[number];
export type EndedStatus = (typeof ENDED_STATUSES)[number];
export type ClockStatus = RunningStatus | EndedStatus;

/** A pause as counted: [from, to), `to` null while the clock is still paused. */
export interface CountedPause {
  from: number;
  to: number | null;
  reason: string;
}

export interface Clock {
  standard: string;
  standardVersion: string;
  calendar: string;
  startedAt: number;
  /** null while paused. For an extended clock, the agreed `until`. */
  dueAt: number | null;
  /** null for an extended clock, and while paused before reaching it. */
  atRiskAt: number | null;
  status: ClockStatus;
  fulfilledAt: number | null;
  /** When the clock stopped running for any reason (fulfilment, abandon, cancellation). */
  endedAt: number | null;
  targetMs: number;
  countedMs: number;
  remainingMs: number;
  /** The due instant before any extension, when the clock was extended. */
  originalDueAt?: number | null;
  extendedUntil?: number;
  reason?: string;
  callback?: boolean;
  pauses?: CountedPause[];
  /** Part of the clock lies outside the calendar's bank-holiday data: weekly hours only. */
  beyondHolidayData?: boolean;
  notes?: string[];
}

export interface EvaluatedContact {
  category: Category;
  callback: boolean;
  assignee: string | null;
  clocks: Clock[];
}

/** Bad input about a contact or event: names the field and the rule (400). */
export class ContactError extends ValidationError {}

// TypeBox schemas for the integration API: request validation and the OpenAPI document at /docs.
import { Type, type Static } from 'typebox';
import { CATEGORIES, CHANNELS, EVENT_TYPES, ROUTES } from '../domain/model.js';

const Instant = (description: string) =>
  Type.String({ description: `${description} ISO-8601 with an offset (Z or +01:00).`, examples: ['2026-03-02T10:00:00Z'] });

export const EventBody = Type.Object(
  {
    type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)), { description: 'What happened (STANDARDS §4).' }),
    at: Instant('When it happened.'),
    externalId: Type.Optional(Type.String({ description: 'Source-system id: a replay with the same id is ignored.', maxLength: 1000 })),
    clock: Type.Optional(Type.String({ description: 'paused / resumed / extended: the standard, e.g. complaint-resolve.' })),
    reason: Type.Optional(Type.String({ description: 'paused: why; cancelled: spam, duplicate or withdrawn.' })),
    until: Type.Optional(Instant('extended: the agreed new due instant.')),
    reference: Type.Optional(Type.String({ description: 'acknowledged: the complaint reference.' })),
    owner: Type.Optional(Type.String({ description: 'acknowledged: the named colleague who owns the complaint.' })),
    category: Type.Optional(Type.Union(CATEGORIES.map((c) => Type.Literal(c)), { description: 'recategorised: the new category.' })),
    assignee: Type.Optional(Type.String({ description: 'assigned: the advisor now owning the contact.' })),
    appointmentArranged: Type.Optional(Type.Boolean({ description: 'attended: the follow-on repair was arranged too.' })),
    stage: Type.Optional(Type.Integer({ minimum: 1, maximum: 2, description: 'Complaint stage (housing-ombudsman pack).' })),
    safetyWork: Type.Optional(Type.Boolean({ description: "investigation-concluded (Awaab's Law): relevant safety work is needed; absent means yes (the make-safe clock starts)." })),
    furtherWork: Type.Optional(Type.Boolean({ description: "investigation-concluded (Awaab's Law): supplementary preventative work is needed (starts the further-work clock)." })),
    by: Type.Optional(Type.String({ maxLength: 320, description: 'Who did it: an advisor\'s email or the source system\'s agent.' })),
  },
  { additionalProperties: true },
);

export const Customer = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    phone: Type.Optional(Type.String({ maxLength: 50 })),
    address: Type.Optional(Type.String({ maxLength: 500 })),
    reference: Type.Optional(Type.String({ maxLength: 100, description: 'Tenancy or customer reference.' })),
    preferredContact: Type.Optional(Type.String({ maxLength: 50, description: 'phone, email, sms, letter…' })),
    accessibilityNeeds: Type.Optional(Type.String({ maxLength: 1000, description: 'Large print, braille, audio, BSL/video relay, interpreter and language…' })),
    vulnerability: Type.Optional(Type.String({ maxLength: 1000, description: 'A vulnerability the customer has told us of: shown to advisors before anything else.' })),
    safeguarding: Type.Optional(Type.Boolean({ description: 'A safety or safeguarding concern: raises an alert for team leads until someone records an action.' })),
  },
  { additionalProperties: false },
);

export const ContactBody = Type.Object(
  {
    channel: Type.Union(CHANNELS.map((c) => Type.Literal(c))),
    route: Type.Optional(Type.Union(ROUTES.map((r) => Type.Literal(r)), { default: undefined })),
    category: Type.Optional(Type.Union(CATEGORIES.map((c) => Type.Literal(c)))),
    externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'Idempotency key, with the channel.' })),
    receivedAt: Instant('When the contact arrived (for a call: when it entered the queue).'),
    events: Type.Optional(Type.Array(EventBody, { maxItems: 1000 })),
    customer: Type.Optional(Customer),
    subject: Type.Optional(Type.String({ maxLength: 1000 })),
    summary: Type.Optional(Type.String({ maxLength: 10000 })),
    id: Type.Optional(Type.Unknown({ description: 'Ignored: Kept assigns ids.' })),
  },
  { additionalProperties: false },
);
export type ContactBodyT = Static<typeof ContactBody>;

/** Every 4xx and 5xx: see server/errors.ts for the codes. */
export const ErrorReply = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String({ description: 'The HTTP reason phrase.' }),
  code: Type.String({ description: 'A stable code to switch on, e.g. `required`, `invalid`, `not-found`, `database-locked`.' }),
  message: Type.String({ description: 'What is wrong, for a person: `field: rule` for bad input.' }),
  field: Type.Optional(Type.String({ description: 'The input at fault, e.g. `events[0].at`, `Authorization`, `Content-Type`.' })),
  rule: Type.Optional(Type.String({ description: 'What the field broke, e.g. `is required`.' })),
  accepted: Type.Optional(Type.Array(Type.String(), { description: '415: the media types the route takes.' })),
});

export const ClockReply = Type.Object(
  {
    standard: Type.String(),
    standardVersion: Type.String(),
    calendar: Type.String(),
    startedAt: Type.String(),
    dueAt: Type.Union([Type.String(), Type.Null()]),
    atRiskAt: Type.Union([Type.String(), Type.Null()]),
    status: Type.String(),
    fulfilledAt: Type.Union([Type.String(), Type.Null()]),
    endedAt: Type.Union([Type.String(), Type.Null()]),
    targetMs: Type.Number(),
    countedMs: Type.Number(),
    remainingMs: Type.Number(),
  },
  { additionalProperties: true },
);

export const ContactReply = Type.Object(
  {
    id: Type.String(),
    channel: Type.String(),
    route: Type.String(),
    category: Type.String(),
    externalId: Type.Union([Type.String(), Type.Null()]),
    receivedAt: Type.String(),
    customer: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
    subject: Type.Union([Type.String(), Type.Null()]),
    summary: Type.Union([Type.String(), Type.Null()]),
    assignee: Type.Union([Type.String(), Type.Null()]),
    callback: Type.Boolean(),
    source: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    events: Type.Array(Type.Object({}, { additionalProperties: true })),
    clocks: Type.Array(ClockReply),
    hazardSuggestion: Type.Optional(
      Type.Union([
        Type.Object(
          {
            category: Type.String({ description: 'hazard-emergency or hazard-significant' }),
            hazard: Type.String({ description: 'damp-and-mould, gas, electrical, excess-cold, water-supply, structural-collapse, flooding' }),
            words: Type.Array(Type.String(), { description: 'The words that matched, as written.' }),
            packVersion: Type.String({ description: "The Awaab's Law version in force when the contact arrived." }),
          },
          { description: "A hazard the contact's words suggest (Awaab's Law), for an advisor to confirm: it starts no clock by itself." },
        ),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: true },
);

export const errorResponses = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
  413: ErrorReply,
  415: ErrorReply,
  422: ErrorReply,
  429: ErrorReply,
  503: ErrorReply,
};

// STANDARDS §3–§5 rules beyond the worked examples, one test per rule.
import { describe, expect, it } from 'vitest';
import { evaluateContact } from '../../server/domain/clocks.js';
import { parseContact } from '../../server/domain/contact.js';
import { customerServicesCalendar, defaultCalendars } from '../../server/domain/defaults.js';
import { explainClock } from '../../server/domain/explain.js';
import { clockToJson, type ClockJson } from '../../server/domain/json.js';
import { ALWAYS } from '../../server/domain/calendar.js';
import { ContactError } from '../../server/domain/model.js';
import { HOUSING_OMBUDSMAN_2024, LIVEWEST_1, packInForce, type StandardsPack } from '../../server/domain/standards.js';
import { parseInstant } from '../../server/domain/time.js';

const calendars = defaultCalendars();
const at = parseInstant;

function evaluate(contact: Record<string, unknown>, now = '2026-11-23T00:00:00Z', pack: StandardsPack = LIVEWEST_1) {
  return evaluateContact(parseContact({ id: 'c', ...contact }), pack, calendars, at(now));
}
function clocks(contact: Record<string, unknown>, now?: string, pack?: StandardsPack): ClockJson[] {
  return evaluate(contact, now, pack).clocks.map(clockToJson);
}
function one(contact: Record<string, unknown>, standard: string, now?: string, pack?: StandardsPack): ClockJson {
  const c = clocks(contact, now, pack).find((x) => x.standard === standard);
  if (!c) throw new Error(`no ${standard}`);
  return c;
}
function errorOf(fn: () => unknown): ContactError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ContactError) return e;
    throw e;
  }
  throw new Error('expected a ContactError');
}

const email = { channel: 'email', receivedAt: '2026-03-02T10:00:00Z' };
const complaint = { channel: 'webform', category: 'complaint', receivedAt: '2026-03-06T16:00:00Z' };

describe('§1 time', () => {
  it('rejects a timestamp without an offset, naming the field', () => {
    const e = errorOf(() => parseContact({ channel: 'email', receivedAt: '2026-03-02T10:00:00' }));
    expect(e.field).toBe('receivedAt');
    expect(e.message).toMatch(/without offset/);
  });
  it('accepts +01:00 offsets and outputs UTC with milliseconds', () => {
    expect(one({ channel: 'email', receivedAt: '2026-06-01T11:00:00+01:00' }, 'email-reply').startedAt).toBe('2026-06-01T10:00:00.000Z');
  });
  it('keeps millisecond precision', () => {
    expect(one({ channel: 'email', receivedAt: '2026-03-02T10:00:00.123Z' }, 'email-reply').dueAt).toBe('2026-03-03T10:00:00.123Z');
  });
});

describe('§3 statuses as of now', () => {
  it('running before 80% of the target, at-risk from it, breached only after dueAt', () => {
    const c = one(email, 'email-reply', '2026-03-02T12:00:00Z');
    expect(c.status).toBe('running');
    expect(c.atRiskAt).toBe('2026-03-03T08:12:00.000Z'); // 7.2 working hours: Mon 10:00–17:00 + 12 min
    expect(one(email, 'email-reply', '2026-03-03T08:12:00Z').status).toBe('at-risk');
    expect(one(email, 'email-reply', '2026-03-03T10:00:00Z').status).toBe('at-risk');
    expect(one(email, 'email-reply', '2026-03-03T10:00:00.001Z').status).toBe('breached');
  });
  it('reports countedMs up to now and remainingMs never below 0', () => {
    const c = one(email, 'email-reply', '2026-03-02T12:30:00Z');
    expect(c.countedMs).toBe(2.5 * 3_600_000);
    expect(c.remainingMs).toBe(6.5 * 3_600_000);
    expect(one(email, 'email-reply', '2026-04-01T00:00:00Z').remainingMs).toBe(0);
  });
  it('countedMs of an ended clock stops at its end', () => {
    const c = one({ ...email, events: [{ type: 'replied', at: '2026-03-02T11:00:00Z' }] }, 'email-reply');
    expect(c.countedMs).toBe(3_600_000);
    expect(c.endedAt).toBe('2026-03-02T11:00:00.000Z');
  });
});

describe('§3 pauses', () => {
  it('rejects a pause of an unpausable clock', () => {
    const e = errorOf(() => evaluate({ ...email, events: [{ type: 'paused', clock: 'email-reply', reason: 'x', at: '2026-03-02T11:00:00Z' }] }));
    expect(e.field).toBe('events[0].clock');
    expect(e.rule).toMatch(/not pausable/);
  });
  it('has no dueAt while paused and reports the remaining time', () => {
    const c = one({ ...complaint, events: [{ type: 'paused', clock: 'complaint-resolve', reason: 'awaiting photos', at: '2026-03-09T12:00:00Z' }] }, 'complaint-resolve', '2026-03-12T00:00:00Z');
    expect(c.status).toBe('paused');
    expect(c.dueAt).toBeNull();
    expect(c.countedMs).toBe(5 * 3_600_000);
    expect(c.remainingMs).toBe(85 * 3_600_000);
  });
  it('a clock fulfilled while paused ends its pause then, and is met', () => {
    const c = one(
      {
        ...complaint,
        events: [
          { type: 'paused', clock: 'complaint-resolve', reason: 'awaiting photos', at: '2026-03-09T12:00:00Z' },
          { type: 'resolved', at: '2026-04-30T12:00:00Z' },
        ],
      },
      'complaint-resolve',
    );
    expect(c.status).toBe('met');
    expect(c.pauses).toEqual([{ from: '2026-03-09T12:00:00.000Z', to: '2026-04-30T12:00:00.000Z', reason: 'awaiting photos' }]);
  });
  it('a pause that starts after dueAt is ignored, kept with a note', () => {
    const c = one({ ...complaint, events: [{ type: 'paused', clock: 'complaint-resolve', reason: 'late', at: '2026-03-21T10:00:00Z' }] }, 'complaint-resolve');
    expect(c.status).toBe('breached');
    expect(c.dueAt).toBe('2026-03-20T16:00:00.000Z');
    expect(c.notes?.[0]).toMatch(/ignored: it started after the clock was due/);
  });
});

describe('§3 extensions', () => {
  const ext = { type: 'extended', clock: 'complaint-resolve', until: '2026-03-27T17:00:00Z', at: '2026-03-18T10:00:00Z' };
  it('fulfilled by the original dueAt is plain met', () => {
    expect(one({ ...complaint, events: [ext, { type: 'resolved', at: '2026-03-20T16:00:00Z' }] }, 'complaint-resolve').status).toBe('met');
  });
  it('after the extension is missed-extended', () => {
    expect(one({ ...complaint, events: [ext, { type: 'resolved', at: '2026-03-27T17:00:00.001Z' }] }, 'complaint-resolve').status).toBe('missed-extended');
  });
  it('a running extended clock breaches only after until', () => {
    expect(one({ ...complaint, events: [ext] }, 'complaint-resolve', '2026-03-25T00:00:00Z').status).toBe('running');
    expect(one({ ...complaint, events: [ext] }, 'complaint-resolve', '2026-03-27T17:00:01Z').status).toBe('breached');
  });
  it('rejects extending an unextendable clock', () => {
    const e = errorOf(() => evaluate({ ...complaint, events: [{ ...ext, clock: 'complaint-acknowledge' }] }));
    expect(e.rule).toMatch(/not extendable/);
  });
});

describe('§4 events', () => {
  it('rejects acknowledged without reference or owner', () => {
    expect(errorOf(() => parseContact({ ...complaint, events: [{ type: 'acknowledged', at: '2026-03-06T17:00:00Z', owner: 'Sam' }] })).field).toBe('events[0].reference');
    expect(errorOf(() => parseContact({ ...complaint, events: [{ type: 'acknowledged', at: '2026-03-06T17:00:00Z', reference: 'C-1' }] })).field).toBe('events[0].owner');
  });
  it('acknowledged with reference and owner meets complaint-acknowledge', () => {
    expect(one({ ...complaint, events: [{ type: 'acknowledged', at: '2026-03-06T17:00:00Z', reference: 'C-1', owner: 'Sam' }] }, 'complaint-acknowledge').status).toBe('met');
  });
  it('rejects an event before receivedAt', () => {
    const e = errorOf(() => parseContact({ ...email, events: [{ type: 'replied', at: '2026-03-02T09:59:59.999Z' }] }));
    expect(e.field).toBe('events[0].at');
    expect(e.rule).toMatch(/before the contact's receivedAt/);
  });
  it('rejects unknown type, channel, route and category', () => {
    expect(errorOf(() => parseContact({ ...email, events: [{ type: 'emailed', at: '2026-03-02T11:00:00Z' }] })).field).toBe('events[0].type');
    expect(errorOf(() => parseContact({ ...email, channel: 'fax' })).field).toBe('channel');
    expect(errorOf(() => parseContact({ ...email, route: 'back-office' })).field).toBe('route');
    expect(errorOf(() => parseContact({ ...email, category: 'praise' })).field).toBe('category');
  });
  it('applies events in time order whatever order they arrive in', () => {
    const events = [
      { type: 'resolved', at: '2026-03-10T12:00:00Z' },
      { type: 'resumed', clock: 'complaint-resolve', at: '2026-03-10T09:00:00Z' },
      { type: 'paused', clock: 'complaint-resolve', reason: 'photos', at: '2026-03-09T12:00:00Z' },
    ];
    const inOrder = one({ ...complaint, events: [...events].reverse() }, 'complaint-resolve');
    const shuffled = one({ ...complaint, events }, 'complaint-resolve');
    expect(shuffled).toEqual(inOrder);
    expect(shuffled.dueAt).toBe('2026-03-23T13:00:00.000Z');
  });
  it('abandoned at exactly 5 s is a plain abandon', () => {
    expect(one({ channel: 'phone', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'abandoned', at: '2026-03-02T10:00:05Z' }] }, 'phone-answer').status).toBe('abandoned');
  });
  it('callback-connected within five minutes of receivedAt is met', () => {
    const c = one(
      { channel: 'phone', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'callback-requested', at: '2026-03-02T10:01:00Z' }, { type: 'callback-connected', at: '2026-03-02T10:04:00Z' }] },
      'phone-answer',
    );
    expect(c.status).toBe('met');
    expect(c.callback).toBe(true);
  });
  it('recategorised to complaint cancels the reply clock (superseded) and starts complaint clocks at receivedAt', () => {
    const c = clocks({ ...email, events: [{ type: 'recategorised', category: 'complaint', at: '2026-03-02T15:00:00Z' }] });
    expect(c.map((x) => [x.standard, x.status, x.reason ?? null, x.startedAt])).toEqual([
      ['email-reply', 'cancelled', 'superseded', '2026-03-02T10:00:00.000Z'],
      ['complaint-acknowledge', 'breached', null, '2026-03-02T10:00:00.000Z'],
      ['complaint-resolve', 'breached', null, '2026-03-02T10:00:00.000Z'],
    ]);
    expect(evaluate({ ...email, events: [{ type: 'recategorised', category: 'complaint', at: '2026-03-02T15:00:00Z' }] }).category).toBe('complaint');
  });
  it('a clock met before a recategorisation keeps its outcome', () => {
    const c = one({ ...email, events: [{ type: 'replied', at: '2026-03-02T11:00:00Z' }, { type: 'recategorised', category: 'complaint', at: '2026-03-02T15:00:00Z' }] }, 'email-reply');
    expect(c.status).toBe('met');
  });
  it('cancelled ends every running clock with its reason, leaving ended clocks alone', () => {
    const c = clocks({ ...complaint, events: [{ type: 'acknowledged', at: '2026-03-06T17:00:00Z', reference: 'C-1', owner: 'Sam' }, { type: 'cancelled', reason: 'duplicate', at: '2026-03-09T09:00:00Z' }] });
    expect(c.map((x) => [x.standard, x.status, x.reason ?? null])).toEqual([
      ['complaint-acknowledge', 'met', null],
      ['complaint-resolve', 'cancelled', 'duplicate'],
    ]);
  });
  it('rejects a cancellation reason outside spam, duplicate, withdrawn', () => {
    expect(errorOf(() => parseContact({ ...email, events: [{ type: 'cancelled', reason: 'bored', at: '2026-03-02T11:00:00Z' }] })).field).toBe('events[0].reason');
  });
  it('assigned records the advisor without touching clocks', () => {
    const r = evaluate({ ...email, events: [{ type: 'assigned', assignee: 'sam.jones', at: '2026-03-02T10:05:00Z' }] });
    expect(r.assignee).toBe('sam.jones');
    expect(r.clocks[0]!.status).toBe('breached');
  });
  it('resolved leaves an unreplied reply clock to be judged', () => {
    expect(one({ ...email, events: [{ type: 'resolved', at: '2026-03-02T11:00:00Z' }] }, 'email-reply').status).toBe('breached');
  });
});

describe('§5 the LiveWest pack', () => {
  it('a phone complaint keeps phone-answer', () => {
    expect(clocks({ channel: 'phone', category: 'complaint', receivedAt: '2026-03-02T10:00:00Z' }).map((c) => c.standard)).toEqual([
      'phone-answer',
      'complaint-acknowledge',
      'complaint-resolve',
    ]);
  });
  it('an out-of-hours call has no answer target', () => {
    expect(clocks({ channel: 'phone', route: 'out-of-hours', receivedAt: '2026-03-02T22:00:00Z' })).toEqual([]);
  });
  it('an emergency is made safe in 24 h elapsed; attended with appointmentArranged fulfils the repair clock too', () => {
    const c = clocks({ channel: 'phone', route: 'out-of-hours', category: 'emergency-repair', receivedAt: '2026-03-06T22:00:00Z', events: [{ type: 'attended', appointmentArranged: true, at: '2026-03-07T03:00:00Z' }] });
    expect(c.map((x) => [x.standard, x.status, x.dueAt])).toEqual([
      ['emergency-make-safe', 'met', '2026-03-07T22:00:00.000Z'],
      ['emergency-arrange-repair', 'met', '2026-03-10T17:00:00.000Z'],
    ]);
  });
  it('stores the standard version on each clock and picks the version in force at receivedAt', () => {
    expect(one(email, 'email-reply').standardVersion).toBe('livewest-1');
    expect(packInForce('livewest', at('2026-03-02T10:00:00Z')).id).toBe('livewest-1');
    expect(() => packInForce('housing-ombudsman', at('2024-03-01T00:00:00Z'))).toThrow(/no version/);
  });
  it('past the end of the holiday data the clock says so', () => {
    const c = one({ channel: 'email', receivedAt: '2029-03-05T10:00:00Z' }, 'email-reply', '2029-03-05T11:00:00Z');
    expect(c.dueAt).toBe('2029-03-06T10:00:00.000Z');
    expect(c.beyondHolidayData).toBe(true);
    expect(one(email, 'email-reply').beyondHolidayData).toBeUndefined();
  });
});

describe('housing-ombudsman-2024 pack', () => {
  const ho = { channel: 'email', category: 'complaint', receivedAt: '2026-03-02T10:00:00Z' };
  it('stage 1: acknowledge in 5 working days, respond in 10 working days of the acknowledgement', () => {
    const c = clocks({ ...ho, events: [{ type: 'acknowledged', reference: 'C-9', owner: 'Ana', at: '2026-03-04T09:00:00Z' }] }, '2026-03-05T00:00:00Z', HOUSING_OMBUDSMAN_2024);
    expect(c.map((x) => [x.standard, x.status, x.startedAt, x.dueAt])).toEqual([
      ['stage1-acknowledge', 'met', '2026-03-02T10:00:00.000Z', '2026-03-09T10:00:00.000Z'],
      ['stage1-respond', 'running', '2026-03-04T09:00:00.000Z', '2026-03-18T09:00:00.000Z'],
    ]);
  });
  it('an extension of more than 10 working days is rejected', () => {
    const e = errorOf(() =>
      evaluate(
        { ...ho, events: [{ type: 'acknowledged', reference: 'C-9', owner: 'Ana', at: '2026-03-04T09:00:00Z' }, { type: 'extended', clock: 'stage1-respond', until: '2026-04-30T09:00:00Z', at: '2026-03-10T09:00:00Z' }] },
        '2026-03-11T00:00:00Z',
        HOUSING_OMBUDSMAN_2024,
      ),
    );
    expect(e.rule).toMatch(/at most 10 working days/);
  });
  it('stage 2 starts on escalation and on the stage-2 acknowledgement', () => {
    const c = clocks(
      {
        ...ho,
        events: [
          { type: 'acknowledged', reference: 'C-9', owner: 'Ana', at: '2026-03-03T09:00:00Z' },
          { type: 'resolved', at: '2026-03-10T09:00:00Z' },
          { type: 'escalated', at: '2026-03-12T09:00:00Z' },
          { type: 'acknowledged', stage: 2, reference: 'C-9', owner: 'Lee', at: '2026-03-13T09:00:00Z' },
        ],
      },
      '2026-03-14T00:00:00Z',
      HOUSING_OMBUDSMAN_2024,
    );
    expect(c.map((x) => [x.standard, x.status, x.dueAt])).toEqual([
      ['stage1-acknowledge', 'met', '2026-03-09T10:00:00.000Z'],
      ['stage1-respond', 'met', '2026-03-17T09:00:00.000Z'],
      ['stage2-acknowledge', 'met', '2026-03-19T09:00:00.000Z'],
      ['stage2-respond', 'running', '2026-04-14T08:00:00.000Z'] // 8 h on 13 Mar, 19 days, then 1 h (Good Friday and Easter Monday skipped),
    ]);
  });
});

describe('end-of-day mode', () => {
  const eod: StandardsPack = {
    ...LIVEWEST_1,
    id: 'eod-test',
    standards: [{ ...LIVEWEST_1.standards.find((s) => s.id === 'email-reply')!, mode: 'end-of-day' }],
  };
  it('is due at the close of the first working day after the date of arrival', () => {
    expect(one(email, 'email-reply', undefined, eod).dueAt).toBe('2026-03-03T17:00:00.000Z');
    // Thursday before Easter: day 1 is Tuesday 7 April.
    expect(one({ channel: 'email', receivedAt: '2026-04-02T14:00:00Z' }, 'email-reply', undefined, eod).dueAt).toBe('2026-04-07T16:00:00.000Z');
    // Saturday: day 1 is Monday.
    expect(one({ channel: 'email', receivedAt: '2026-03-07T11:00:00Z' }, 'email-reply', undefined, eod).dueAt).toBe('2026-03-09T17:00:00.000Z');
  });
});

describe('calendar operations', () => {
  const cs = customerServicesCalendar();
  it('open now and next opening', () => {
    expect(cs.isOpen(at('2026-03-02T08:00:00Z'))).toBe(true);
    expect(cs.isOpen(at('2026-03-02T17:00:00Z'))).toBe(false);
    expect(new Date(cs.nextOpening(at('2026-04-02T17:30:00+01:00'))).toISOString()).toBe('2026-04-07T07:00:00.000Z');
    expect(ALWAYS.isOpen()).toBe(true);
  });
  it('time counted between two instants', () => {
    expect(cs.countedBetween(at('2026-03-06T16:00:00Z'), at('2026-03-09T09:00:00Z'))).toBe(2 * 3_600_000);
  });
  it('a calendar keeps working past the holiday data and says so', () => {
    expect(cs.holidaysKnownAt(at('2028-12-31T12:00:00Z'))).toBe(true);
    expect(cs.holidaysKnownAt(at('2029-01-01T12:00:00Z'))).toBe(false);
    expect(new Date(cs.addWorking(at('2040-01-02T08:00:00Z'), 9 * 3_600_000)).toISOString()).toBe('2040-01-02T17:00:00.000Z');
  });
});

describe('explain', () => {
  it('lists the start, each day counted, holidays skipped and the due instant', () => {
    const r = evaluate({ channel: 'email', receivedAt: '2026-04-02T14:00:00Z' });
    const e = explainClock(r.clocks[0]!, calendars, at('2026-11-23T00:00:00Z'));
    expect(e.steps.map((s) => s.kind)).toEqual(['start', 'target', 'counted', 'holiday', 'non-working-day', 'non-working-day', 'holiday', 'counted', 'due']);
    expect(e.text).toContain('2026-04-03: skipped, bank holiday (Good Friday).');
    expect(e.text).toContain('2026-04-07: counted 08:00–15:00 (7h 00m; 9h 00m so far).');
    expect(e.text).toContain('Due Tue, 7 Apr 2026, 15:00 BST (2026-04-07T14:00:00.000Z).');
  });
  it('shows pauses and closures', () => {
    const withClosure = defaultCalendars({ closures: [{ from: at('2026-12-24T12:00Z'), to: at('2026-12-24T17:00Z'), reason: 'Christmas Eve' }] });
    const c = evaluateContact(parseContact({ id: 'x', channel: 'email', receivedAt: '2026-12-24T10:00:00Z' }), LIVEWEST_1, withClosure, at('2026-12-01T00:00:00Z'));
    const e = explainClock(c.clocks[0]!, withClosure, at('2026-12-01T00:00:00Z'));
    expect(e.steps.some((s) => s.kind === 'closure')).toBe(true);
    expect(e.text).toMatch(/closed .* \(Christmas Eve\); not counted/);
    const p = evaluate({ ...complaint, events: [{ type: 'paused', clock: 'complaint-resolve', reason: 'awaiting photos', at: '2026-03-09T12:00:00Z' }, { type: 'resumed', clock: 'complaint-resolve', at: '2026-03-10T09:00:00Z' }] });
    const pe = explainClock(p.clocks[1]!, calendars, at('2026-11-23T00:00:00Z'));
    expect(pe.steps.filter((s) => s.kind === 'paused').map((s) => (s.kind === 'paused' ? s.workingMs : 0))).toEqual([5 * 3_600_000, 3_600_000]);
  });
});

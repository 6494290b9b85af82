// STANDARDS §7: every worked example is a test named after its row.
import { describe, expect, it } from 'vitest';
import { evaluateContact } from '../../server/domain/clocks.js';
import { parseContact } from '../../server/domain/contact.js';
import { defaultCalendars } from '../../server/domain/defaults.js';
import { clockToJson, type ClockJson } from '../../server/domain/json.js';
import { LIVEWEST_1 } from '../../server/domain/standards.js';
import { parseInstant } from '../../server/domain/time.js';

const NOW = parseInstant('2026-11-23T00:00:00Z');

function clocksOf(contact: Record<string, unknown>, options: Parameters<typeof defaultCalendars>[0] = {}): ClockJson[] {
  const parsed = parseContact({ id: 'x', ...contact });
  return evaluateContact(parsed, LIVEWEST_1, defaultCalendars(options), NOW).clocks.map(clockToJson);
}

function clock(contact: Record<string, unknown>, standard: string, options: Parameters<typeof defaultCalendars>[0] = {}): ClockJson {
  const found = clocksOf(contact, options).find((c) => c.standard === standard);
  if (found === undefined) throw new Error(`no ${standard} clock`);
  return found;
}

const complaintWebform = { channel: 'webform', category: 'complaint', receivedAt: '2026-03-06T16:00:00Z' };

describe('STANDARDS §7 worked examples (customer-services calendar, England & Wales)', () => {
  it('row 1: email Monday 10:00 GMT is due Tuesday 10:00', () => {
    expect(clock({ channel: 'email', receivedAt: '2026-03-02T10:00:00Z' }, 'email-reply').dueAt).toBe('2026-03-03T10:00:00.000Z');
  });

  it('row 2: email on a Saturday is due Monday 17:00', () => {
    expect(clock({ channel: 'email', receivedAt: '2026-03-07T11:00:00Z' }, 'email-reply').dueAt).toBe('2026-03-09T17:00:00.000Z');
  });

  it('row 3: email Monday 08:00 fits exactly, due 17:00 the same day', () => {
    expect(clock({ channel: 'email', receivedAt: '2026-03-02T08:00:00Z' }, 'email-reply').dueAt).toBe('2026-03-02T17:00:00.000Z');
  });

  it('row 4: email before Good Friday skips Fri 3 and Mon 6 April', () => {
    expect(clock({ channel: 'email', receivedAt: '2026-04-02T14:00:00Z' }, 'email-reply').dueAt).toBe('2026-04-07T14:00:00.000Z');
  });

  it('row 5: colleague-direct email on Christmas Eve skips 25 and 28 December', () => {
    const c = clock({ channel: 'email', route: 'colleague-direct', receivedAt: '2026-12-24T12:00:00Z' }, 'direct-email-reply');
    expect(c.dueAt).toBe('2026-12-30T12:00:00.000Z');
  });

  it('row 6: Friday 16:00 GMT is due Monday 16:00 BST across the spring clock change', () => {
    expect(clock({ channel: 'email', receivedAt: '2026-03-27T16:00:00Z' }, 'email-reply').dueAt).toBe('2026-03-30T15:00:00.000Z');
  });

  it('row 7: Friday 09:30 BST is due Monday 09:30 GMT across the autumn clock change', () => {
    expect(clock({ channel: 'email', receivedAt: '2026-10-23T08:30:00Z' }, 'email-reply').dueAt).toBe('2026-10-26T09:30:00.000Z');
  });

  it('row 8: a reply exactly at dueAt is met', () => {
    const c = clock({ channel: 'email', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'replied', at: '2026-03-03T10:00:00.000Z' }] }, 'email-reply');
    expect(c.status).toBe('met');
    expect(c.fulfilledAt).toBe('2026-03-03T10:00:00.000Z');
  });

  it('row 9: a reply one millisecond after dueAt is missed', () => {
    const c = clock({ channel: 'email', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'replied', at: '2026-03-03T10:00:00.001Z' }] }, 'email-reply');
    expect(c.status).toBe('missed');
  });

  it('row 10: phone-answer counts elapsed time, not working time', () => {
    const c = clock({ channel: 'phone', receivedAt: '2026-03-02T16:58:00Z', events: [{ type: 'answered', at: '2026-03-02T17:02:59Z' }] }, 'phone-answer');
    expect(c.dueAt).toBe('2026-03-02T17:03:00.000Z');
    expect(c.status).toBe('met');
  });

  it('row 11: a callback connected after five minutes is missed and marked callback', () => {
    const contact = {
      channel: 'phone',
      receivedAt: '2026-03-02T10:00:00Z',
      events: [
        { type: 'callback-requested', at: '2026-03-02T10:02:00Z' },
        { type: 'callback-connected', at: '2026-03-02T10:06:00Z' },
      ],
    };
    const c = clock(contact, 'phone-answer');
    expect(c.status).toBe('missed');
    expect(c.callback).toBe(true);
    expect(evaluateContact(parseContact({ id: 'x', ...contact }), LIVEWEST_1, defaultCalendars(), NOW).callback).toBe(true);
  });

  it('row 12: a call abandoned after 3 s is a short abandon', () => {
    const c = clock({ channel: 'phone', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'abandoned', at: '2026-03-02T10:00:03Z' }] }, 'phone-answer');
    expect(c.status).toBe('abandoned-short');
  });

  it('row 13: a webform complaint gets acknowledge and resolve clocks and no webform-reply', () => {
    const clocks = clocksOf(complaintWebform);
    expect(clocks.map((c) => c.standard)).toEqual(['complaint-acknowledge', 'complaint-resolve']);
    expect(clocks[0]!.dueAt).toBe('2026-03-07T16:00:00.000Z');
    expect(clocks[1]!.dueAt).toBe('2026-03-20T16:00:00.000Z');
  });

  it('row 14: six working hours paused move complaint-resolve to 23 March 13:00', () => {
    const c = clock(
      {
        ...complaintWebform,
        events: [
          { type: 'paused', clock: 'complaint-resolve', reason: 'awaiting photos', at: '2026-03-09T12:00:00Z' },
          { type: 'resumed', clock: 'complaint-resolve', at: '2026-03-10T09:00:00Z' },
        ],
      },
      'complaint-resolve',
    );
    expect(c.dueAt).toBe('2026-03-23T13:00:00.000Z');
  });

  it('row 15: resolved after the original due but within the extension is met-extended', () => {
    const c = clock(
      {
        ...complaintWebform,
        events: [
          { type: 'extended', clock: 'complaint-resolve', until: '2026-03-27T17:00:00Z', at: '2026-03-18T10:00:00Z' },
          { type: 'resolved', at: '2026-03-25T11:00:00Z' },
        ],
      },
      'complaint-resolve',
    );
    expect(c.status).toBe('met-extended');
    expect(c.dueAt).toBe('2026-03-27T17:00:00.000Z');
    expect(c.originalDueAt).toBe('2026-03-20T16:00:00.000Z');
    expect(c.atRiskAt).toBeNull();
  });

  it('row 16: 3 August is a bank holiday in Scotland only', () => {
    const contact = { channel: 'email', receivedAt: '2026-08-03T09:00:00Z' };
    expect(clock(contact, 'email-reply').dueAt).toBe('2026-08-04T09:00:00.000Z');
    expect(clock(contact, 'email-reply', { division: 'scotland' }).dueAt).toBe('2026-08-04T16:00:00.000Z');
  });

  it('row 17: a Christmas Eve afternoon closure is not counted', () => {
    const closures = [{ from: parseInstant('2026-12-24T12:00Z'), to: parseInstant('2026-12-24T17:00Z') }];
    expect(clock({ channel: 'email', receivedAt: '2026-12-24T10:00:00Z' }, 'email-reply', { closures }).dueAt).toBe('2026-12-29T15:00:00.000Z');
  });
});

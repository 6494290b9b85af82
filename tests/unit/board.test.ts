// The board's figures (server/live/board.ts), a pure function: running clocks, today's ledger, the
// calendar and the site facts in; every figure below checked by hand. Builders at the top.
import { describe, expect, it } from 'vitest';
import { CompiledCalendar, STANDARD_WEEKLY_HOURS, type Closure, type WeeklyHours } from '../../server/domain/calendar.js';
import type { CallOutcome } from '../../server/domain/metrics.js';
import { HOUSING_OMBUDSMAN_2024, LIVEWEST_1 } from '../../server/domain/standards.js';
import { HOUR, MINUTE } from '../../server/domain/time.js';
import { boardFigures, busyNotice, intradayBuckets, localDay, type BoardSite, type EndedClock, type RunningClock, type TodayFigures } from '../../server/live/board.js';
import { impliedChannels } from '../../server/live/live.js';
import { durationWords, hazardStandards, openingWords, packTargets, publicWording, WordingError } from '../../server/live/site.js';

// ------------------------------------------------------------------------------------------------
// Builders

const at = (iso: string) => Date.parse(iso);

/** A calendar with no bank holidays: weekly hours (default Mon–Fri 08:00–17:00) in a zone. */
function calendar(options: { timeZone?: string; hours?: WeeklyHours; closures?: Closure[] } = {}): CompiledCalendar {
  return new CompiledCalendar({
    id: 'test-centre',
    timeZone: options.timeZone ?? 'Europe/London',
    weeklyHours: options.hours ?? STANDARD_WEEKLY_HOURS,
    holidays: null,
    closures: options.closures ?? [],
    workingDayMs: 9 * HOUR,
  });
}

const LIVEWEST = packTargets(LIVEWEST_1);

/** The site facts: the LiveWest pack's targets and default words unless told otherwise. */
function site(cal: CompiledCalendar, over: Partial<BoardSite> = {}): BoardSite {
  return {
    calendar: cal,
    title: 'Test centre',
    phoneTargetMs: LIVEWEST.phoneTargetMs,
    busyCallsWaiting: 10,
    busyOldestWaitSeconds: 240,
    wording: publicWording({ open: '', busy: '', closed: '' }, LIVEWEST),
    serviceLevelTarget: 0.8,
    promiseStandards: LIVEWEST.promiseStandards,
    hazardStandards: hazardStandards(),
    ...over,
  };
}

let ids = 0;
/** A running clock: a phone call waiting unless told otherwise. */
function clock(over: Partial<RunningClock> = {}): RunningClock {
  const contactId = over.contactId ?? `contact-${++ids}`;
  const standard = over.standard ?? 'phone-answer';
  const receivedAt = over.receivedAt ?? at('2026-03-10T10:00:00Z');
  return { key: `${contactId}/${standard}`, contactId, standard, status: 'running', dueAt: receivedAt + 5 * MINUTE, atRiskAt: receivedAt + 4 * MINUTE, channel: 'phone', receivedAt, countsWaiting: true, ...over };
}

/** A call of today's ledger. */
function call(receivedAt: number, over: Partial<CallOutcome> = {}): CallOutcome {
  return { receivedAt, status: 'running', answeredAt: null, endedAt: null, callback: false, ...over };
}
const answered = (receivedAt: number, afterMs: number): CallOutcome => call(receivedAt, { status: afterMs <= 5 * MINUTE ? 'met' : 'missed', answeredAt: receivedAt + afterMs, endedAt: receivedAt + afterMs });

function today(over: Partial<{ calls: CallOutcome[]; received: number[]; handled: Array<{ channel: string; standard: string; n: number }>; ended: EndedClock[] }> = {}): TodayFigures {
  const calls = over.calls ?? [];
  // Every call is a contact received today, unless the test lists them.
  return { calls, received: over.received ?? calls.map((c) => c.receivedAt), handled: over.handled ?? [], ended: over.ended ?? [] };
}

/** Tuesday 10 March 2026 (London on GMT), 10:02. */
const TUESDAY_1002 = at('2026-03-10T10:02:00Z');

// ------------------------------------------------------------------------------------------------

describe('tiles', () => {
  it('counts waiting, at risk, breached, the oldest waiting and handled today per channel', () => {
    const clocks = [
      clock({ receivedAt: at('2026-03-10T10:00:00Z') }), // waiting 2 min
      clock({ receivedAt: at('2026-03-10T09:57:00Z'), status: 'at-risk' }), // exactly 5 min: not over
      clock({ receivedAt: at('2026-03-10T09:50:00Z'), status: 'breached' }), // 12 min: over
      clock({ channel: 'email', standard: 'email-reply', receivedAt: at('2026-03-09T15:00:00Z') }),
      // A complaint by email: two first-response-like clocks, one of them counts it as waiting.
      clock({ contactId: 'complaint', channel: 'email', standard: 'complaint-acknowledge', receivedAt: at('2026-03-09T11:00:00Z'), status: 'at-risk' }),
      clock({ contactId: 'complaint', channel: 'email', standard: 'complaint-resolve', receivedAt: at('2026-03-09T11:00:00Z'), countsWaiting: false }),
      clock({ channel: 'webform', standard: 'webform-reply', receivedAt: at('2026-03-09T09:00:00Z'), status: 'breached' }),
      clock({ channel: 'fax', standard: 'fax-reply' }), // not a board channel: ignored
    ];
    const handled = [
      { channel: 'phone', standard: 'phone-answer', n: 4 },
      { channel: 'phone', standard: 'complaint-acknowledge', n: 2 }, // the call was the phone's first response
      { channel: 'email', standard: 'email-reply', n: 3 },
      { channel: 'email', standard: 'complaint-resolve', n: 1 }, // not a first response
    ];
    const b = boardFigures(TUESDAY_1002, clocks, today({ handled }), site(calendar()));
    expect(b.tiles).toEqual([
      { channel: 'phone', waitingNow: 3, oldestWaitingSince: '2026-03-10T09:50:00.000Z', handledToday: 4, atRisk: 1, breached: 1 },
      { channel: 'email', waitingNow: 2, oldestWaitingSince: '2026-03-09T11:00:00.000Z', handledToday: 3, atRisk: 1, breached: 0 },
      { channel: 'webform', waitingNow: 1, oldestWaitingSince: '2026-03-09T09:00:00.000Z', handledToday: 0, atRisk: 0, breached: 1 },
      { channel: 'social', waitingNow: 0, oldestWaitingSince: null, handledToday: 0, atRisk: 0, breached: 0 },
      { channel: 'voicemail', waitingNow: 0, oldestWaitingSince: null, handledToday: 0, atRisk: 0, breached: 0 },
    ]);
    expect(b.phone.callsWaitingOverTarget).toBe(1);
    expect(b.busy).toMatchObject({ busy: true, callsWaiting: 3, longestWaitSeconds: 12 * 60 }); // 12 min ≥ 240 s
    expect(b).toMatchObject({ at: '2026-03-10T10:02:00.000Z', today: '2026-03-10', timeZone: 'Europe/London', calendar: 'test-centre', title: 'Test centre', openNow: true, nextOpening: '2026-03-10T10:02:00.000Z' });
  });
});

describe('phone figures', () => {
  const from = at('2026-03-10T09:00:00Z');
  const calls = [
    answered(from, 2 * MINUTE), // within 5 minutes
    answered(from + MINUTE, 6 * MINUTE), // answered, late
    call(from + 2 * MINUTE, { status: 'abandoned', endedAt: from + 3 * MINUTE }), // against
    call(from + 3 * MINUTE, { status: 'abandoned-short', endedAt: from + 3 * MINUTE + 4000 }), // left out
    call(at('2026-03-10T09:55:00Z'), { status: 'breached' }), // waiting 7 min: can no longer make it
    call(at('2026-03-10T10:01:00Z')), // waiting 1 min: not counted yet
    call(from + 4 * MINUTE, { status: 'met', answeredAt: from + 5 * MINUTE, endedAt: from + 5 * MINUTE, callback: true }),
    call(from + 5 * MINUTE, { status: 'cancelled' }), // not a call after all
  ];

  it('service level = answered within target ÷ (answered + abandoned + waiting past target), short abandons left out', () => {
    const b = boardFigures(TUESDAY_1002, [], today({ calls }), site(calendar()));
    // within: the 2-minute and the 1-minute callback = 2; counted: 3 answered + 1 abandoned + 1 waiting past = 5.
    expect(b.phone).toEqual({
      targetMs: 5 * MINUTE,
      serviceLevel: 2 / 5,
      offered: 7,
      answeredWithinTarget: 2,
      shortAbandons: 1,
      abandons: 1,
      callsWaitingOverTarget: 0, // no running phone clocks given
      callbacksRequested: 1,
      callbacksConnected: 1,
      averageSpeedOfAnswerMs: (2 + 6 + 1) * MINUTE / 3,
      decided: 5,
      stillWaiting: 1,
      // Calls queued in the last 15 min: the 7-minute wait (decided, against) and the 1-minute one (still waiting).
      recent: [
        { minutes: 15, serviceLevel: 0, answeredWithinTarget: 0, decided: 1, stillWaiting: 1 },
        { minutes: 30, serviceLevel: 0, answeredWithinTarget: 0, decided: 1, stillWaiting: 1 },
        { minutes: 60, serviceLevel: 1 / 2, answeredWithinTarget: 1, decided: 2, stillWaiting: 1 }, // since 09:02: the callback and the 7-minute wait
      ],
      estimatedWaitMs: null, // nothing answered in the last 15 minutes
      answeredLast15: 0,
    });
  });

  it("follows the pack's target: 10 minutes makes the late answer and the 7-minute wait count as in time", () => {
    const b = boardFigures(TUESDAY_1002, [clock({ receivedAt: at('2026-03-10T09:55:00Z') })], today({ calls }), site(calendar(), { phoneTargetMs: 10 * MINUTE }));
    // within: 2, 6 and 1 minute = 3; counted: 3 answered + 1 abandoned = 4.
    expect(b.phone).toMatchObject({ targetMs: 10 * MINUTE, serviceLevel: 3 / 4, answeredWithinTarget: 3, callsWaitingOverTarget: 0 });
  });

  it('with no phone target in the pack: counts, but no level and nothing over target', () => {
    const b = boardFigures(TUESDAY_1002, [clock({ receivedAt: at('2026-03-10T09:00:00Z') })], today({ calls }), site(calendar(), { phoneTargetMs: null }));
    expect(b.phone).toMatchObject({ targetMs: null, serviceLevel: null, answeredWithinTarget: 0, offered: 7, callsWaitingOverTarget: 0 });
    expect(b.intraday.every((x) => x.serviceLevel === null)).toBe(true);
  });
});

describe('busy notice and public wording', () => {
  const cal = calendar();
  const waiting = (n: number, since: number) => Array.from({ length: n }, () => clock({ receivedAt: since }));

  it('open: the words built from the pack\'s phone target', () => {
    const b = boardFigures(TUESDAY_1002, waiting(2, TUESDAY_1002 - MINUTE), today(), site(cal));
    expect(b.busy).toEqual({ busy: false, message: 'We are open. Calls are usually answered within 5 minutes.', callsWaiting: 2, longestWaitSeconds: 60 });
  });

  it('busy from KEPT_BUSY_CALLS_WAITING calls waiting, or an oldest wait of KEPT_BUSY_OLDEST_WAIT_SECONDS', () => {
    const busyWords = 'We are busier than usual, so you may wait longer than 5 minutes. You can also email us or use our web form: we reply within one working day.';
    expect(boardFigures(TUESDAY_1002, waiting(3, TUESDAY_1002 - MINUTE), today(), site(cal, { busyCallsWaiting: 3 })).busy).toEqual({ busy: true, message: busyWords, callsWaiting: 3, longestWaitSeconds: 60 });
    expect(boardFigures(TUESDAY_1002, waiting(1, TUESDAY_1002 - 240_000), today(), site(cal)).busy).toMatchObject({ busy: true, longestWaitSeconds: 240 });
    expect(boardFigures(TUESDAY_1002, waiting(1, TUESDAY_1002 - 239_000), today(), site(cal)).busy.busy).toBe(false);
  });

  it('closed: never busy, and says when it opens in the calendar\'s zone', () => {
    const closed = (now: number, c = cal) => busyNotice(site(c), now, 12, now - HOUR);
    const tail = 'For an emergency repair, call the out-of-hours line.';
    expect(closed(at('2026-03-10T07:10:00Z'))).toEqual({ busy: false, message: `We are closed. We open again today at 08:00. ${tail}`, callsWaiting: 12, longestWaitSeconds: 3600 });
    expect(closed(at('2026-03-10T17:30:00Z')).message).toBe(`We are closed. We open again tomorrow at 08:00. ${tail}`);
    expect(closed(at('2026-03-14T12:00:00Z')).message).toBe(`We are closed. We open again on Monday at 08:00. ${tail}`); // a Saturday
    const christmas = calendar({ closures: [{ from: at('2026-12-24T17:00:00Z'), to: at('2027-01-04T08:00:00Z') }] });
    expect(closed(at('2026-12-24T18:00:00Z'), christmas).message).toBe(`We are closed. We open again on Monday 4 January at 08:00. ${tail}`);
    // New York hours, New York words: 09:00 there is 13:00 in London.
    const ny = calendar({ timeZone: 'America/New_York', hours: { tuesday: [['09:00', '18:00']], wednesday: [['09:00', '18:00']] } });
    expect(closed(at('2026-03-10T23:30:00Z'), ny).message).toBe(`We are closed. We open again tomorrow at 09:00. ${tail}`); // 19:30 Tuesday there
  });

  it('configured words with the pack\'s targets filled in; a pack without a phone standard says less', () => {
    const w = publicWording({ open: 'Lines open: we aim to answer within {phoneTarget}, and reply to email within {replyTarget}.', busy: '', closed: 'Shut. Back {nextOpening}.' }, LIVEWEST);
    expect(w).toEqual({
      open: 'Lines open: we aim to answer within 5 minutes, and reply to email within one working day.',
      busy: 'We are busier than usual, so you may wait longer than 5 minutes. You can also email us or use our web form: we reply within one working day.',
      closed: 'Shut. Back {nextOpening}.',
    });
    expect(busyNotice(site(calendar(), { wording: w }), at('2026-03-10T17:30:00Z'), 0, 0).message).toBe('Shut. Back tomorrow at 08:00.');
    const ombudsman = packTargets(HOUSING_OMBUDSMAN_2024);
    expect(ombudsman).toEqual({ phoneTargetMs: null, phoneTarget: null, replyTarget: null, promiseStandards: ['stage1-acknowledge', 'stage1-respond', 'stage2-acknowledge', 'stage2-respond'] });
    expect(publicWording({ open: '', busy: '', closed: '' }, ombudsman)).toMatchObject({ open: 'We are open.', busy: 'We are busier than usual.' });
    expect(() => publicWording({ open: 'Answered within {phoneTarget}.', busy: '', closed: '' }, ombudsman)).toThrow(WordingError);
    expect(() => publicWording({ open: 'Answered within {phoneTarget}.', busy: '', closed: '' }, ombudsman)).toThrow(/KEPT_PUBLIC_OPEN_MESSAGE.*phone-answer/);
  });

  it('targets and openings in words', () => {
    expect([durationWords(5 * MINUTE), durationWords(MINUTE), durationWords(24 * HOUR), durationWords(90_000)]).toEqual(['5 minutes', 'one minute', 'one day', '90 seconds']);
    expect(openingWords(at('2026-03-16T08:00:00Z'), 6, 'Europe/London')).toBe('on Monday at 08:00');
    expect(openingWords(at('2026-03-16T08:00:00Z'), 7, 'Europe/London')).toBe('on Monday 16 March at 08:00');
  });
});

describe('intraday buckets', () => {
  const labels = (b: Array<{ label: string }>) => b.map((x) => x.label);

  it('span the calendar\'s opening hours today: 09:00–18:00 in New York', () => {
    const ny = calendar({ timeZone: 'America/New_York', hours: { monday: [['09:00', '18:00']], tuesday: [['09:00', '18:00']], saturday: [['10:00', '14:00']] } });
    const now = at('2026-03-10T15:10:00Z'); // 11:10 EDT (clocks went forward on 8 March)
    const b = boardFigures(now, [], today(), site(ny));
    expect(b).toMatchObject({ today: '2026-03-10', timeZone: 'America/New_York', openNow: true });
    expect(b.intraday).toHaveLength(18);
    expect(b.intraday[0]).toEqual({ from: '2026-03-10T13:00:00.000Z', label: '09:00', volume: 0, callsOffered: 0, serviceLevel: null });
    expect(b.intraday.at(-1)!.label).toBe('17:30');
  });

  it('count each half hour\'s contacts and calls, with its own service level', () => {
    const ny = calendar({ timeZone: 'America/New_York', hours: { tuesday: [['09:00', '18:00']] } });
    const nine = at('2026-03-10T13:00:00Z'); // 09:00 EDT
    const calls = [answered(nine + 5 * MINUTE, MINUTE), answered(nine + 10 * MINUTE, 7 * MINUTE), answered(nine + 40 * MINUTE, MINUTE)];
    const received = [...calls.map((c) => c.receivedAt), nine + 20 * MINUTE, at('2026-03-10T12:40:00Z') /* 08:40, before opening */];
    const b = boardFigures(at('2026-03-10T15:10:00Z'), [], today({ calls, received }), site(ny));
    expect(labels(b.intraday).slice(0, 3)).toEqual(['08:30', '09:00', '09:30']); // widened to the early contact
    expect(b.intraday).toHaveLength(19);
    expect(b.intraday.slice(0, 3).map((x) => [x.volume, x.callsOffered, x.serviceLevel])).toEqual([
      [1, 0, null],
      [3, 2, 0.5],
      [1, 1, 1],
    ]);
  });

  it('run past closing to the half hour now is in, never past midnight', () => {
    const ny = calendar({ timeZone: 'America/New_York', hours: { tuesday: [['09:00', '18:00']] } });
    const evening = boardFigures(at('2026-03-10T23:10:00Z'), [], today(), site(ny)); // 19:10
    expect(labels(evening.intraday).at(-1)).toBe('19:00');
    const late = boardFigures(at('2026-03-11T03:55:00Z'), [], today(), site(ny)); // 23:55
    expect(labels(late.intraday).at(-1)).toBe('23:30');
    expect(late.intraday).toHaveLength(30);
  });

  it('a Saturday with other hours (10:00–14:00); a closed Sunday shows only its contacts, or nothing', () => {
    const hours: WeeklyHours = { tuesday: [['09:00', '18:00']], saturday: [['10:00', '14:00']] };
    const ny = calendar({ timeZone: 'America/New_York', hours });
    const saturday = boardFigures(at('2026-03-14T16:05:00Z'), [], today(), site(ny)); // 12:05 EDT
    expect(labels(saturday.intraday)).toEqual(['10:00', '10:30', '11:00', '11:30', '12:00', '12:30', '13:00', '13:30']);
    const sundayNoon = at('2026-03-15T16:05:00Z');
    expect(boardFigures(sundayNoon, [], today(), site(ny)).intraday).toEqual([]);
    const sunday = boardFigures(sundayNoon, [], today({ received: [at('2026-03-15T15:20:00Z')] }), site(ny)); // one at 11:20
    expect(sunday.openNow).toBe(false);
    expect(sunday.intraday.map((x) => [x.label, x.volume])).toEqual([
      ['11:00', 1],
      ['11:30', 0],
      ['12:00', 0],
    ]);
  });

  it('half hours from local midnight in a half-hour zone (Kolkata, UTC+05:30)', () => {
    const kolkata = calendar({ timeZone: 'Asia/Kolkata', hours: { tuesday: [['09:00', '17:30']] } });
    const b = boardFigures(at('2026-03-10T06:00:00Z'), [], today(), site(kolkata)); // 11:30 IST
    expect(b.intraday[0]).toMatchObject({ from: '2026-03-10T03:30:00.000Z', label: '09:00' });
    expect(labels(b.intraday).at(-1)).toBe('17:00');
    expect(b.intraday).toHaveLength(17);
  });

  it('a clock-change day has 46 half hours (London, 29 March 2026), for a centre open around the clock', () => {
    const allDay = Object.fromEntries(['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'].map((d) => [d, [['00:00', '24:00']]])) as WeeklyHours;
    const london = calendar({ hours: allDay });
    const now = at('2026-03-29T22:00:00Z'); // 23:00 BST
    const day = localDay(london, now);
    expect(day).toEqual({ start: at('2026-03-29T00:00:00Z'), end: at('2026-03-29T23:00:00Z'), date: '2026-03-29', timeZone: 'Europe/London' });
    const b = intradayBuckets(day, london, now, [], [], 5 * MINUTE);
    expect(b).toHaveLength(46);
    expect(labels(b).slice(0, 4)).toEqual(['00:00', '00:30', '02:00', '02:30']);
  });

  it("today is the calendar's local date: late evening in London is already tomorrow in Kolkata", () => {
    const kolkata = calendar({ timeZone: 'Asia/Kolkata' });
    expect(localDay(kolkata, at('2026-03-10T23:30:00Z'))).toMatchObject({ date: '2026-03-11', start: at('2026-03-10T18:30:00Z') });
  });
});

describe('channels implied by standards (the start-up load reads no contact for these)', () => {
  it('a standard for one channel in every pack version implies it; complaints and emergencies do not', () => {
    const implied = impliedChannels();
    expect(Object.fromEntries(implied)).toEqual({
      'phone-answer': 'phone',
      'email-reply': 'email',
      'direct-email-reply': 'email',
      'social-reply': 'social',
      'direct-social-reply': 'social',
      'webform-reply': 'webform',
      'voicemail-reply': 'voicemail',
    });
    // A later version that lets email-reply apply to web forms too: no longer implied.
    const widened = { ...LIVEWEST_1, id: 'livewest-2', standards: LIVEWEST_1.standards.map((d) => (d.id === 'email-reply' ? { ...d, appliesWhen: { ...d.appliesWhen, channels: ['email', 'webform'] as const } } : d)) };
    expect(impliedChannels([LIVEWEST_1, widened as never]).has('email-reply')).toBe(false);
  });
});

// Awaab's Law (server/domain/packs/awaab.ts): worked examples, each due instant worked out by hand
// in the comment beside it; the phases by commencement date; the suggestion from a contact's words.
import { describe, expect, it } from 'vitest';
import { evaluateContact } from '../../server/domain/clocks.js';
import { parseContact } from '../../server/domain/contact.js';
import { defaultCalendars } from '../../server/domain/defaults.js';
import { clockToJson, type ClockJson } from '../../server/domain/json.js';
import { ContactError } from '../../server/domain/model.js';
import { AWAAB_1, AWAAB_PACKS, suggestHazard, type AwaabPack } from '../../server/domain/packs/awaab.js';
import { packsInForce } from '../../server/domain/packs/in-force.js';
import { PACKS } from '../../server/domain/standards.js';
import { parseInstant } from '../../server/domain/time.js';

const NOW = parseInstant('2026-11-23T00:00:00Z');
const calendars = defaultCalendars();

function evaluate(contact: Record<string, unknown>, now = NOW) {
  const parsed = parseContact({ id: 'x', ...contact });
  const result = evaluateContact(parsed, packsInForce('livewest', parsed.receivedAt), calendars, now);
  return { ...result, clocks: result.clocks.map(clockToJson) };
}

function byStandard(clocks: ClockJson[]): Record<string, ClockJson> {
  return Object.fromEntries(clocks.map((c) => [c.standard, c]));
}

describe("Awaab's Law worked examples (statutory working days: weekdays less England's bank holidays)", () => {
  it('an emergency hazard reported on a Friday evening: investigated within 24 hours, through the weekend; made safe 24 hours from the investigation', () => {
    // Fri 6 March 2026 19:30 GMT. 24 hours elapsed: Sat 7 March 19:30 GMT (weekends count).
    // The investigation ends Sat 09:00 and finds safety work: make safe by Sun 8 March 09:00.
    // The written summary: 3 working days after Saturday 7 March = Mon 9, Tue 10, Wed 11 → the end of
    // Wed 11 March (midnight GMT, 2026-03-12T00:00Z). LiveWest's email reply, 1 working day of the
    // customer-services calendar: Mon 9 March 08:00 + 9 h = 17:00.
    const { clocks, category } = evaluate({
      channel: 'email',
      category: 'hazard-emergency',
      receivedAt: '2026-03-06T19:30:00Z',
      events: [
        { type: 'investigation-started', at: '2026-03-07T08:00:00Z' },
        { type: 'investigation-concluded', at: '2026-03-07T09:00:00Z' },
        { type: 'made-safe', at: '2026-03-07T15:00:00Z' },
      ],
    });
    const c = byStandard(clocks);
    expect(category).toBe('hazard-emergency');
    expect(Object.keys(c).sort()).toEqual(['awaab-emergency-investigate', 'awaab-emergency-make-safe', 'awaab-summary', 'email-reply']);
    expect(c['awaab-emergency-investigate']).toMatchObject({ standardVersion: 'awaab-1', calendar: 'always', dueAt: '2026-03-07T19:30:00.000Z', atRiskAt: '2026-03-07T07:30:00.000Z', status: 'met', fulfilledAt: '2026-03-07T09:00:00.000Z' });
    expect(c['awaab-emergency-make-safe']).toMatchObject({ startedAt: '2026-03-07T09:00:00.000Z', dueAt: '2026-03-08T09:00:00.000Z', status: 'met' });
    expect(c['awaab-summary']).toMatchObject({ calendar: 'awaab-working-days', startedAt: '2026-03-07T09:00:00.000Z', dueAt: '2026-03-12T00:00:00.000Z', status: 'breached' });
    // LiveWest's promise holds for the same contact, under its own version.
    expect(c['email-reply']).toMatchObject({ standardVersion: 'livewest-1', dueAt: '2026-03-09T17:00:00.000Z' });
  });

  it('an emergency hazard made safe by offering temporary accommodation meets the make-safe clock; one made safe late misses it', () => {
    const base = { channel: 'phone', route: 'out-of-hours', category: 'hazard-emergency', receivedAt: '2026-03-06T19:30:00Z' };
    const offered = byStandard(evaluate({ ...base, events: [{ type: 'investigation-concluded', at: '2026-03-06T22:00:00Z' }, { type: 'temporary-accommodation-offered', at: '2026-03-07T21:59:00Z' }] }).clocks);
    expect(offered['awaab-emergency-make-safe']).toMatchObject({ dueAt: '2026-03-07T22:00:00.000Z', status: 'met' });
    const late = byStandard(evaluate({ ...base, events: [{ type: 'investigation-concluded', at: '2026-03-06T22:00:00Z' }, { type: 'made-safe', at: '2026-03-07T22:00:00.001Z' }] }).clocks);
    expect(late['awaab-emergency-make-safe']!.status).toBe('missed');
    // An out-of-hours call has no LiveWest answer clock: only Awaab's Law's.
    expect(Object.keys(late).sort()).toEqual(['awaab-emergency-investigate', 'awaab-emergency-make-safe', 'awaab-summary']);
  });

  it('a significant hazard reported before a bank holiday: 10 working days skip Good Friday and Easter Monday', () => {
    // Thu 2 April 2026 15:00 BST. Working days after that date: Tue 7 (1), Wed 8, Thu 9, Fri 10,
    // Mon 13 (5), Tue 14, Wed 15, Thu 16, Fri 17, Mon 20 April (10) — Fri 3 and Mon 6 April are bank
    // holidays. Due at the end of Mon 20 April: midnight BST = 2026-04-20T23:00:00.000Z.
    const c = byStandard(evaluate({ channel: 'webform', category: 'hazard-significant', receivedAt: '2026-04-02T14:00:00Z' }).clocks);
    expect(c['awaab-significant-investigate']).toMatchObject({ standardVersion: 'awaab-1', dueAt: '2026-04-20T23:00:00.000Z', status: 'breached' });
    // No clock starts before the investigation ends.
    expect(c['awaab-summary']).toBeUndefined();
    expect(c['awaab-significant-make-safe']).toBeUndefined();
    expect(c['webform-reply']).toMatchObject({ dueAt: '2026-04-07T14:00:00.000Z' });
  });

  it('a written summary after an investigation that ends late on a Friday: the Friday does not count', () => {
    // Reported Mon 2 March 2026. Investigated by the end of the 10th working day after it: Tue 3 … Mon 16
    // March → 2026-03-17T00:00Z. The investigation ends Fri 13 March 16:55 GMT, finding safety work and
    // further work. 3 working days after Fri 13: Mon 16, Tue 17, Wed 18 → summary due 2026-03-19T00:00Z.
    // 5 working days after Fri 13: Mon 16 … Fri 20 → make safe and begin further work by 2026-03-21T00:00Z.
    const contact = {
      channel: 'email',
      category: 'hazard-significant',
      receivedAt: '2026-03-02T10:00:00Z',
      events: [
        { type: 'investigation-concluded', at: '2026-03-13T16:55:00Z', safetyWork: true, furtherWork: true },
        { type: 'summary-sent', at: '2026-03-18T23:59:59.999Z' },
      ],
    };
    const c = byStandard(evaluate(contact).clocks);
    expect(c['awaab-significant-investigate']).toMatchObject({ dueAt: '2026-03-17T00:00:00.000Z', status: 'met' });
    expect(c['awaab-summary']).toMatchObject({ startedAt: '2026-03-13T16:55:00.000Z', dueAt: '2026-03-19T00:00:00.000Z', status: 'met' });
    expect(c['awaab-significant-make-safe']).toMatchObject({ dueAt: '2026-03-21T00:00:00.000Z' });
    expect(c['awaab-further-work-start']).toMatchObject({ dueAt: '2026-03-21T00:00:00.000Z' });
    // A millisecond after the end of Wednesday is late.
    const late = byStandard(evaluate({ ...contact, events: [contact.events[0]!, { type: 'summary-sent', at: '2026-03-19T00:00:00.001Z' }] }).clocks);
    expect(late['awaab-summary']!.status).toBe('missed');
  });

  it('an investigation that finds no safety work and no further work starts only the summary clock', () => {
    const c = byStandard(evaluate({ channel: 'email', category: 'hazard-significant', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'investigation-concluded', at: '2026-03-04T10:00:00Z', safetyWork: false }] }).clocks);
    expect(Object.keys(c).sort()).toEqual(['awaab-significant-investigate', 'awaab-summary', 'email-reply']);
  });

  it('further work may be extended where 5 working days is not practicable, to at most 12 weeks from the investigation', () => {
    // Investigation ends Fri 13 March 2026 16:55Z; 12 weeks = 84 × 24 h later: 2026-06-05T16:55:00.000Z.
    const base = { channel: 'email', category: 'hazard-significant', receivedAt: '2026-03-02T10:00:00Z' };
    const concluded = { type: 'investigation-concluded', at: '2026-03-13T16:55:00Z', furtherWork: true };
    const ok = byStandard(evaluate({ ...base, events: [concluded, { type: 'extended', clock: 'awaab-further-work-start', until: '2026-06-05T16:55:00Z', reason: 'scaffold and roof works', at: '2026-03-16T10:00:00Z' }, { type: 'further-work-started', at: '2026-05-01T09:00:00Z' }] }).clocks);
    expect(ok['awaab-further-work-start']).toMatchObject({ status: 'met-extended', originalDueAt: '2026-03-21T00:00:00.000Z', extendedUntil: '2026-06-05T16:55:00.000Z' });
    expect(() => evaluate({ ...base, events: [concluded, { type: 'extended', clock: 'awaab-further-work-start', until: '2026-06-05T16:55:00.001Z', at: '2026-03-16T10:00:00Z' }] })).toThrow(/at most 2026-06-05T16:55:00.000Z/);
    // Investigating and making safe are not extendable.
    expect(() => evaluate({ ...base, events: [concluded, { type: 'extended', clock: 'awaab-significant-make-safe', until: '2026-04-01T00:00:00Z', at: '2026-03-16T10:00:00Z' }] })).toThrow(/not extendable/);
  });

  it('a hazard raised from significant to emergency: the emergency clocks start when it is raised, the significant investigation is superseded', () => {
    // Reported Mon 2 March 2026 10:00 as significant; raised to emergency Wed 4 March 15:00.
    // Emergency investigation: 24 h from Wed 15:00 → Thu 5 March 15:00. It ends Thu 11:00 with safety
    // work: make safe by Fri 6 March 11:00. Summary: 3 working days after Thu 5 (Fri 6, Mon 9, Tue 10)
    // → 2026-03-11T00:00Z.
    const { clocks, category } = evaluate({
      channel: 'email',
      category: 'hazard-significant',
      receivedAt: '2026-03-02T10:00:00Z',
      events: [
        { type: 'severity-raised', at: '2026-03-04T15:00:00Z', reason: 'child with asthma; mould spreading' },
        { type: 'investigation-concluded', at: '2026-03-05T11:00:00Z' },
      ],
    });
    const c = byStandard(clocks);
    expect(category).toBe('hazard-emergency');
    expect(c['awaab-significant-investigate']).toMatchObject({ status: 'cancelled', reason: 'superseded', endedAt: '2026-03-04T15:00:00.000Z' });
    expect(c['awaab-emergency-investigate']).toMatchObject({ startedAt: '2026-03-04T15:00:00.000Z', dueAt: '2026-03-05T15:00:00.000Z', status: 'met' });
    expect(c['awaab-emergency-make-safe']).toMatchObject({ startedAt: '2026-03-05T11:00:00.000Z', dueAt: '2026-03-06T11:00:00.000Z' });
    expect(c['awaab-significant-make-safe']).toBeUndefined();
    expect(c['awaab-summary']).toMatchObject({ dueAt: '2026-03-11T00:00:00.000Z' });
    expect(c['email-reply']).toMatchObject({ standardVersion: 'livewest-1' });
  });

  it('raised to emergency after the investigation found safety work: the 5-day make-safe gives way to 24 hours from the raise', () => {
    // Investigation ends Wed 4 March 10:00 (significant: make safe in 5 working days); raised Wed 15:00.
    // Emergency make-safe: Wed 15:00 + 24 h = Thu 5 March 15:00. No new investigation clock: it was done.
    // The summary still runs from Wed 10:00: Thu 5, Fri 6, Mon 9 → 2026-03-10T00:00Z.
    const c = byStandard(evaluate({
      channel: 'email',
      category: 'hazard-significant',
      receivedAt: '2026-03-02T10:00:00Z',
      events: [
        { type: 'investigation-concluded', at: '2026-03-04T10:00:00Z' },
        { type: 'severity-raised', at: '2026-03-04T15:00:00Z' },
      ],
    }).clocks);
    expect(c['awaab-significant-make-safe']).toMatchObject({ status: 'cancelled', reason: 'superseded' });
    expect(c['awaab-emergency-make-safe']).toMatchObject({ startedAt: '2026-03-04T15:00:00.000Z', dueAt: '2026-03-05T15:00:00.000Z' });
    expect(c['awaab-emergency-investigate']).toBeUndefined();
    expect(c['awaab-significant-investigate']).toMatchObject({ status: 'met' });
    expect(c['awaab-summary']).toMatchObject({ startedAt: '2026-03-04T10:00:00.000Z', dueAt: '2026-03-10T00:00:00.000Z' });
  });

  it('recategorised (rather than raised) to an emergency: it was one from the report, so its clocks start at receipt', () => {
    const c = byStandard(evaluate({ channel: 'email', category: 'repair', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'recategorised', category: 'hazard-emergency', at: '2026-03-02T12:00:00Z' }] }).clocks);
    expect(c['awaab-emergency-investigate']).toMatchObject({ startedAt: '2026-03-02T10:00:00.000Z', dueAt: '2026-03-03T10:00:00.000Z' });
  });
});

describe("Awaab's Law statutory working days are not the centre's opening hours", () => {
  it("a closure of the contact centre moves LiveWest's reply clock but not the legal deadline", () => {
    // Closed all of Tue 3 March 2026 (adverse weather). The email reply (1 working day from Mon 10:00)
    // moves from Tue 10:00 to Wed 10:00; the investigation (10 working days after Mon 2 March: Tue 3 …
    // Mon 16 March) stays due at the end of Mon 16 March.
    const closed = defaultCalendars({ closures: [{ from: parseInstant('2026-03-03T00:00:00Z'), to: parseInstant('2026-03-04T00:00:00Z'), reason: 'adverse weather' }] });
    const parsed = parseContact({ id: 'x', channel: 'email', category: 'hazard-significant', receivedAt: '2026-03-02T10:00:00Z' });
    const c = byStandard(evaluateContact(parsed, packsInForce('livewest', parsed.receivedAt), closed, NOW).clocks.map(clockToJson));
    expect(c['email-reply']!.dueAt).toBe('2026-03-04T10:00:00.000Z');
    expect(c['awaab-significant-investigate']!.dueAt).toBe('2026-03-17T00:00:00.000Z');
  });
});

describe("Awaab's Law phases by commencement date", () => {
  it('a hazard reported before 27 October 2025 has no Awaab clocks; from midnight it has phase 1', () => {
    const before = evaluate({ channel: 'email', category: 'hazard-significant', receivedAt: '2025-10-26T23:59:59.999Z' });
    expect(before.clocks.map((c) => c.standard)).toEqual(['email-reply']);
    const from = evaluate({ channel: 'email', category: 'hazard-significant', receivedAt: '2025-10-27T00:00:00.000Z' });
    expect(from.clocks.map((c) => `${c.standard}@${c.standardVersion}`)).toEqual(['email-reply@livewest-1', 'awaab-significant-investigate@awaab-1']);
    // 10 working days after Mon 27 October 2025: Tue 28 … Mon 10 November → end of Mon 10 Nov (GMT).
    expect(from.clocks[1]!.dueAt).toBe('2025-11-11T00:00:00.000Z');
  });

  it('a later phase takes over from its commencement date; contacts before it keep the phase they arrived under', () => {
    const phase2: AwaabPack = { ...AWAAB_1, id: 'awaab-2', inForceFrom: '2026-10-01T00:00:00+01:00', significantHazards: ['damp-and-mould', 'excess-cold'] };
    const packs = [...PACKS, phase2];
    expect(packsInForce('livewest', parseInstant('2026-09-30T22:59:59.999Z'), packs).map((p) => p.id)).toEqual(['livewest-1', 'awaab-1']);
    expect(packsInForce('livewest', parseInstant('2026-09-30T23:00:00Z'), packs).map((p) => p.id)).toEqual(['livewest-1', 'awaab-2']);
    expect(packsInForce('housing-ombudsman', parseInstant('2026-09-30T23:00:00Z'), packs).map((p) => p.id)).toEqual(['housing-ombudsman-2024', 'awaab-2']);
    // The suggestion follows the phase: "no heating" is an emergency word in phase 1 (every emergency
    // hazard is covered); damp and mould is the only significant hazard until a phase adds others.
    const cold = 'The radiators upstairs are cold';
    expect(suggestHazard({ receivedAt: parseInstant('2026-10-02T09:00:00Z'), category: 'general' }, 'Black mould in the bathroom', [...AWAAB_PACKS, phase2])).toMatchObject({ packVersion: 'awaab-2', category: 'hazard-significant' });
    expect(suggestHazard({ receivedAt: parseInstant('2026-03-02T09:00:00Z'), category: 'general' }, cold)).toBeNull();
  });
});

describe('Recognised at the door: a suggestion from the words, never a clock', () => {
  const at = parseInstant('2026-03-02T09:00:00Z');
  it('damp, mould and condensation suggest a significant hazard; gas, wiring and no heating an emergency', () => {
    expect(suggestHazard({ receivedAt: at, category: 'repair' }, 'Black MOULD and condensation in the bedroom')).toEqual({ category: 'hazard-significant', hazard: 'damp-and-mould', words: ['MOULD', 'condensation'], packVersion: 'awaab-1' });
    expect(suggestHazard({ receivedAt: at, category: 'general' }, 'Damp walls and a smell of gas in the kitchen')).toMatchObject({ category: 'hazard-emergency', hazard: 'gas', words: ['smell of gas'] });
    expect(suggestHazard({ receivedAt: at, category: 'general' }, 'exposed wiring by the front door')).toMatchObject({ category: 'hazard-emergency', hazard: 'electrical' });
    expect(suggestHazard({ receivedAt: at, category: 'general' }, 'We have no heating and a baby')).toMatchObject({ category: 'hazard-emergency', hazard: 'excess-cold' });
    expect(suggestHazard({ receivedAt: at, category: 'general' }, 'Question about my rent')).toBeNull();
    expect(suggestHazard({ receivedAt: at, category: 'hazard-significant' }, 'mould')).toBeNull();
    expect(suggestHazard({ receivedAt: parseInstant('2025-10-01T09:00:00Z'), category: 'general' }, 'mould')).toBeNull();
  });

  it("one pass of every rule's words rules out only texts no rule matches (the lists present a suggestion for every contact)", () => {
    // Each phrase a rule names, in other cases and inside sentences, and near misses around word edges.
    const phrases = [
      'gas leak', 'Smells of gas', 'smelling gas', 'GAS SMELL', 'carbon monoxide', 'CO alarm', 'exposed live wiring', 'bare wire', 'sparking', 'electric shocks', 'live wires',
      'no heating', "heating isn't working", 'boiler is not working', 'broken boiler', 'no running water', 'water is cut off', 'ceiling has collapsed', 'collapsed ceiling',
      'wall collapsed', 'flooding', 'water pouring', 'damp', 'moldy', 'mould', 'condensation', 'black spots', 'fungal', 'mildew',
      'gaslight', 'dampen', 'moulding', 'floodlight', 'sparkingly', 'question about rent', '', '   ', 'Mould.\nDamp!', 'the smell of gas, and damp',
    ];
    // The suggestion as it was worked out before the one pass: every rule in turn.
    const ruleWords = (text: string) => /\b(gas leak|smell(?:s|ing)? (?:of )?gas|gas smell|carbon monoxide|co alarm|exposed (?:live )?wir(?:e|es|ing)|bare wires?|sparking|electric shocks?|live wires?|no heating|heating (?:is )?(?:not|isn'?t) working|boiler (?:is )?(?:broken|not working|isn'?t working)|broken boiler|no (?:running )?water|water (?:is )?(?:off|cut off)|ceiling (?:has )?(?:collapsed|falling|fell)|collapsed ceiling|wall (?:has )?collapsed|flood(?:ed|ing)?|water pouring|damp|mou?ld(?:y)?|condensation|black spots|fung(?:us|al)|mildew)\b/i.test(text);
    for (const phrase of phrases) {
      for (const text of [phrase, `Hello, ${phrase} in the flat`, phrase.toUpperCase()]) {
        const got = suggestHazard({ receivedAt: at, category: 'general' }, text);
        expect(got !== null, text).toBe(ruleWords(text));
      }
    }
  });

  it('a contact with mould in its words but category general has no Awaab clock', () => {
    expect(evaluate({ channel: 'email', receivedAt: '2026-03-02T10:00:00Z' }).clocks.map((c) => c.standard)).toEqual(['email-reply']);
  });
});

describe("Awaab's Law events are validated like the others", () => {
  it('investigation-concluded flags must be booleans; severity-raised makes the contact hazard-emergency only', () => {
    const base = { id: 'x', channel: 'email', category: 'hazard-significant', receivedAt: '2026-03-02T10:00:00Z' };
    expect(() => parseContact({ ...base, events: [{ type: 'investigation-concluded', at: '2026-03-03T10:00:00Z', safetyWork: 'yes' }] })).toThrow(ContactError);
    expect(() => parseContact({ ...base, events: [{ type: 'investigation-concluded', at: '2026-03-03T10:00:00Z', safetyWork: 'yes' }] })).toThrow(/events\[0\]\.safetyWork/);
    expect(() => parseContact({ ...base, events: [{ type: 'severity-raised', category: 'general', at: '2026-03-03T10:00:00Z' }] })).toThrow(/events\[0\]\.category/);
    expect(() => parseContact({ ...base, events: [{ type: 'made-safe', at: '2026-03-01T10:00:00Z' }] })).toThrow(/before the contact's receivedAt/);
    expect(parseContact({ ...base, events: [{ type: 'severity-raised', at: '2026-03-03T10:00:00Z' }] }).events[0]).toMatchObject({ type: 'severity-raised', category: 'hazard-emergency' });
  });
});

// Instants at the edges: the hand-written fast paths of parseInstant and formatInstant agree with
// Date's own parser and formatter on every form, and bad text still gets the full parser's reason.
import { describe, expect, it } from 'vitest';
import { formatInstant, InstantError, parseInstant, parseStoredInstant } from '../../server/domain/time.js';
import { mulberry32 as random } from '../../scripts/lib/prng.js';

const FROM = Date.UTC(2000, 0, 1);
const TO = Date.UTC(2200, 0, 1);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `ms` written with a fixed offset of `offsetMinutes`, milliseconds always shown. */
function withOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const a = Math.abs(offsetMinutes);
  return `${local}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

describe('formatInstant', () => {
  it('matches Date#toISOString on 200,000 random instants across 2000–2199 and at the edges', () => {
    const next = random(20261123);
    const wrong: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const ms = FROM + Math.floor(next() * (TO - FROM));
      if (formatInstant(ms) !== new Date(ms).toISOString()) wrong.push(`${ms}: ${formatInstant(ms)}`);
    }
    expect(wrong).toEqual([]);
    for (const ms of [0, FROM, TO - 1, Date.UTC(2000, 1, 29), Date.UTC(2100, 1, 28, 23, 59, 59, 999), Date.UTC(2100, 2, 1), Date.UTC(2024, 1, 29, 12)]) {
      expect(formatInstant(ms)).toBe(new Date(ms).toISOString());
    }
  });
});

describe('parseInstant', () => {
  it('reads Z and ±HH:MM forms like Date.parse on 100,000 random instants', () => {
    const next = random(7);
    const offsets = [0, 60, -300, 330, 545, -570, 840, -720];
    const wrong: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const ms = FROM + 14 * 3_600_000 + Math.floor(next() * (TO - FROM - 28 * 3_600_000));
      const off = offsets[i % offsets.length]!;
      for (const text of [new Date(ms).toISOString(), withOffset(ms, off)]) if (parseInstant(text) !== ms) wrong.push(`${text} → ${parseInstant(text)}, not ${ms}`);
    }
    expect(wrong).toEqual([]);
  });

  it('takes the other forms the full parser knows (no ms, lower-case z, comma, more digits)', () => {
    expect(parseInstant('2026-03-02T10:00:00Z')).toBe(Date.UTC(2026, 2, 2, 10));
    expect(parseInstant('2026-03-02T10:00Z')).toBe(Date.UTC(2026, 2, 2, 10));
    expect(parseInstant('2026-03-02T10:00:00.5z')).toBe(Date.UTC(2026, 2, 2, 10, 0, 0, 500));
    expect(parseInstant('2026-03-02T10:00:00,250+01:00')).toBe(Date.UTC(2026, 2, 2, 9, 0, 0, 250));
    expect(parseInstant('2026-03-02T10:00:00.123456789Z')).toBe(Date.UTC(2026, 2, 2, 10, 0, 0, 123));
    expect(parseInstant('2026-03-02T10:00:00.000+0100')).toBe(Date.UTC(2026, 2, 2, 9));
  });

  it('rejects what looks common but is not, with the full parser\'s reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['2026-03-02T10:00:00.000', /without offset/],
      ['2026-02-29T10:00:00.000Z', /day out of range/],
      ['2026-13-02T10:00:00.000Z', /month out of range/],
      ['2026-03-02T24:00:00.000Z', /time of day out of range/],
      ['2026-03-02T10:60:00.000Z', /time of day out of range/],
      ['2026-03-02T10:00:00.000+19:00', /offset out of range/],
      ['2026-03-02T10:00:00.000+01:60', /offset out of range/],
      ['1999-12-31T23:59:59.999Z', /outside the supported years/],
      ['2026-03-02X10:00:00.000Z', /not an ISO-8601 timestamp/],
      ['2026-0a-02T10:00:00.000Z', /not an ISO-8601 timestamp/],
      ['2026-03-02T10:00:00.000Q', /not an ISO-8601 timestamp/],
    ];
    for (const [text, reason] of cases) {
      expect(() => parseInstant(text), text).toThrow(InstantError);
      expect(() => parseInstant(text), text).toThrow(reason);
    }
  });
});

describe('parseStoredInstant: what Kept stored, read back', () => {
  it("gives Date.parse's instant for formatInstant's text over two centuries, and for the older forms it falls back on", () => {
    const next = random(20261204);
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor(FROM + next() * (TO - FROM));
      const text = formatInstant(ms);
      expect(parseStoredInstant(text), text).toBe(ms);
    }
    for (const text of ['2026-12-04T19:00:00Z', '2026-12-04T19:00:00.5Z', '2026-12-04T20:00:00.000+01:00', '1969-12-31T23:59:59.999Z', '1900-01-01T00:00:00.000Z']) {
      expect(parseStoredInstant(text), text).toBe(Date.parse(text));
    }
  });
});

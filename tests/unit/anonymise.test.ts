// What anonymisation keeps and takes out (issue 17): the pure rules of server/privacy/anonymise.ts and
// the keys a person is found by (server/privacy/keys.ts).
import { describe, expect, it } from 'vitest';
import { ANONYMISED, MESSAGES, REMOVED, scrubClockDetail, scrubEventBody, scrubSource } from '../../server/privacy/anonymise.js';
import { normaliseEmail, normaliseName, normaliseReference, personKeys } from '../../server/privacy/keys.js';

describe('scrubEventBody', () => {
  it('replaces the free text of pause, resume and extension reasons, and keeps what the engine reads', () => {
    expect(scrubEventBody('paused', { type: 'paused', at: 'x', clock: 'complaint-resolve', reason: 'waiting for the tenant' })).toEqual({ type: 'paused', at: 'x', clock: 'complaint-resolve', reason: REMOVED });
    expect(scrubEventBody('extended', { type: 'extended', at: 'x', clock: 'c', until: 'y', reason: 'agreed with her' })).toEqual({ type: 'extended', at: 'x', clock: 'c', until: 'y', reason: REMOVED });
    // A cancellation's reason is one of a fixed list (spam, duplicate, withdrawn): kept. Nothing to do: null.
    expect(scrubEventBody('cancelled', { type: 'cancelled', at: 'x', reason: 'spam' })).toBeNull();
    expect(scrubEventBody('resumed', { type: 'resumed', at: 'x', clock: 'c' })).toBeNull();
    expect(scrubEventBody('paused', { type: 'paused', at: 'x', clock: 'c', reason: REMOVED })).toBeNull();
  });
});

describe('scrubClockDetail', () => {
  it("replaces the pauses' reasons and nothing else, keeping the key order", () => {
    const detail = JSON.stringify({ standard: 's', status: 'met', pauses: [{ from: 'a', to: 'b', reason: 'tenant away' }], countedMs: 5 });
    expect(scrubClockDetail(detail)).toBe(JSON.stringify({ standard: 's', status: 'met', pauses: [{ from: 'a', to: 'b', reason: REMOVED }], countedMs: 5 }));
    expect(scrubClockDetail(JSON.stringify({ standard: 's', status: 'met' }))).toBeNull();
  });
});

describe('scrubSource', () => {
  const email = { messageId: '<1@mail.example.org>', inReplyTo: '<0@mail.example.org>', colleague: 'a@staff.example.org', attachments: [{ name: 'tenancy.pdf', size: 1 }], automatic: 'auto-replied' };
  it('with the messages: attachment names become a count, recording links go, ids stay', () => {
    expect(scrubSource(email, MESSAGES)).toEqual({ messageId: '<1@mail.example.org>', inReplyTo: '<0@mail.example.org>', colleague: 'a@staff.example.org', attachments: 1, automatic: 'auto-replied' });
    expect(scrubSource({ callId: 'c1', queue: 'customer-services', recordingUrl: 'https://rec.example.org/1' }, MESSAGES)).toEqual({ callId: 'c1', queue: 'customer-services' });
  });
  it('anonymised: only what says nothing about the person', () => {
    expect(scrubSource(email, ANONYMISED)).toEqual({ attachments: 1, automatic: 'auto-replied' });
    expect(scrubSource({ platform: 'facebook', kind: 'comment', senderId: 'psid-1', postId: 'p' }, ANONYMISED)).toEqual({ platform: 'facebook', kind: 'comment' });
    expect(scrubSource({ callId: 'c1', queue: 'out-of-hours', durationSeconds: 42 }, ANONYMISED)).toEqual({ queue: 'out-of-hours', durationSeconds: 42 });
    expect(scrubSource({ submissionId: 's' }, ANONYMISED)).toBeNull();
    expect(scrubSource(null, ANONYMISED)).toBeNull();
  });
});

describe('person keys', () => {
  it('normalise case and spacing', () => {
    expect(normaliseEmail(' Ann.Example@Example.ORG ')).toBe('ann.example@example.org');
    expect(normaliseName('  Ann   EXAMPLE ')).toBe('ann example');
    expect(normaliseReference('ten 000 123')).toBe('TEN000123');
  });
  it('are the whole name and each word of it, the email, phone and reference, without repeats', () => {
    expect(personKeys({ name: 'Ann Example', email: 'A@example.org', phone: '+44 7700 900123', reference: 'T1' })).toEqual([
      { kind: 'email', value: 'a@example.org' },
      { kind: 'phone', value: '07700900123' },
      { kind: 'reference', value: 'T1' },
      { kind: 'name', value: 'ann example' },
      { kind: 'name', value: 'ann' },
      { kind: 'name', value: 'example' },
    ]);
    expect(personKeys({ name: 'Cy' })).toEqual([{ kind: 'name', value: 'cy' }]);
    expect(personKeys(null)).toEqual([]);
  });
});

// The alert rules' step (server/alerts/rules.ts) and the webhook address checks (webhooks.ts), as
// pure functions: crossing, staying crossed, clearing and crossing again; quiet periods holding and
// then summing up; events once by key; and which addresses Kept will post to.
import { describe, expect, it } from 'vitest';
import { newState, step, type Observation } from '../../server/alerts/rules.js';
import { checkWebhookUrl, maskUrl, slackPayload, teamsPayload } from '../../server/alerts/webhooks.js';
import { ValidationError } from '../../server/errors.js';
import type { AlertRule } from '../../server/store/alerts.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const MIN = 60_000;
const rule = (over: Partial<AlertRule>): AlertRule => ({
  id: 1,
  name: 'R',
  kind: 'calls-waiting',
  threshold: 5,
  standards: [],
  emails: ['a@example.org'],
  teamsUrl: null,
  slackUrl: null,
  quietMinutes: 10,
  enabled: true,
  createdBy: 'lead@example.org',
  createdAt: T0,
  updatedAt: T0,
  ...over,
});
const seen = (now: number, over: Partial<Observation> = {}): Observation => ({ now, callsWaiting: 0, oldestWaitSeconds: 0, serviceLevel30: null, calls30: 0, breaches: [], flags: [], ...over });

describe('a threshold rule', () => {
  it('sends when crossed, not while it stays crossed, and again once it has cleared and crossed anew after the quiet period', () => {
    const r = rule({});
    const s = newState();
    expect(step(r, s, seen(T0, { callsWaiting: 5 }))).toBeNull(); // at the threshold: not above it
    expect(step(r, s, seen(T0 + MIN, { callsWaiting: 6 }))?.title).toBe('Kept alert — R: 6 calls waiting (alert above 5)');
    expect(step(r, s, seen(T0 + 2 * MIN, { callsWaiting: 9 }))).toBeNull();
    expect(step(r, s, seen(T0 + 3 * MIN, { callsWaiting: 2 }))).toBeNull(); // cleared
    // Crossed again within the quiet period: held, with the latest figure…
    expect(step(r, s, seen(T0 + 4 * MIN, { callsWaiting: 7 }))).toBeNull();
    expect(step(r, s, seen(T0 + 5 * MIN, { callsWaiting: 8 }))).toBeNull();
    // …and sent when the period ends.
    expect(step(r, s, seen(T0 + 11 * MIN, { callsWaiting: 8 }))?.lines).toEqual(['8 calls waiting (alert above 5)']);
  });

  it('drops a crossing that clears within the quiet period', () => {
    const r = rule({});
    const s = newState();
    expect(step(r, s, seen(T0, { callsWaiting: 6 }))).not.toBeNull();
    step(r, s, seen(T0 + MIN, { callsWaiting: 0 }));
    step(r, s, seen(T0 + 2 * MIN, { callsWaiting: 6 }));
    step(r, s, seen(T0 + 3 * MIN, { callsWaiting: 0 }));
    expect(step(r, s, seen(T0 + 20 * MIN, { callsWaiting: 0 }))).toBeNull();
  });

  it('judges the oldest wait in seconds and the service level in percent (not below the minimum of calls)', () => {
    const oldest = rule({ kind: 'oldest-wait', threshold: 600 });
    expect(step(oldest, newState(), seen(T0, { oldestWaitSeconds: 601 }))?.lines).toEqual(['Oldest call waiting 10 min (alert above 10 min)']);
    const level = rule({ kind: 'service-level', threshold: 80 });
    expect(step(level, newState(), seen(T0, { serviceLevel30: null, calls30: 3 }))).toBeNull();
    expect(step(level, newState(), seen(T0, { serviceLevel30: 0.8, calls30: 10 }))).toBeNull();
    expect(step(level, newState(), seen(T0, { serviceLevel30: 0.7, calls30: 10 }))?.lines).toEqual(['Service level, last 30 minutes: 70% of 10 calls (alert under 80%)']);
  });

  it('a disabled rule sends nothing and holds nothing', () => {
    const s = newState();
    expect(step(rule({ enabled: false }), s, seen(T0, { callsWaiting: 99 }))).toBeNull();
    expect(s.pending.size).toBe(0);
  });
});

describe('an event rule', () => {
  const breach = (n: number, standard = 'email-reply') => ({ key: `breach:c${n}/${standard}`, standard, line: `c${n} ${standard}` });

  it('sends each breach once, holds the next within the quiet period, and sums up the rest beyond ten lines', () => {
    const r = rule({ kind: 'breach', threshold: null, standards: ['email-reply'], quietMinutes: 5 });
    const s = newState();
    expect(step(r, s, seen(T0, { breaches: [breach(1), breach(2, 'phone-answer')] }))?.keys).toEqual(['breach:c1/email-reply']);
    expect(step(r, s, seen(T0 + MIN, { breaches: [breach(1)] }))).toBeNull();
    const many = Array.from({ length: 12 }, (_, i) => breach(10 + i));
    expect(step(r, s, seen(T0 + 2 * MIN, { breaches: many }))).toBeNull();
    const d = step(r, s, seen(T0 + 5 * MIN, { breaches: [breach(1)] }))!;
    expect(d.title).toBe('Kept alert — R: 12 promises broken');
    expect(d.lines).toHaveLength(11);
    expect(d.lines.at(-1)).toBe('…and 2 more');
  });

  it('remembers what was sent before a restart', () => {
    const r = rule({ kind: 'safeguarding', threshold: null, quietMinutes: 0 });
    const s = newState(T0 - MIN, ['flag:7']);
    expect(step(r, s, seen(T0, { flags: [{ key: 'flag:7', line: 'x' }, { key: 'flag:8', line: 'y' }] }))?.keys).toEqual(['flag:8']);
  });
});

describe('webhook addresses', () => {
  const strict = { hosts: ['hooks.slack.com', '*.webhook.office.com'], allowLoopbackHttp: false };
  const refusal = (url: string, policy = strict) => {
    try {
      checkWebhookUrl(url, 'slackUrl', policy);
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).message).not.toContain('s3cr3t');
      return (e as ValidationError).code;
    }
    return 'accepted';
  };

  it('takes https to an allowed host, and nothing else', () => {
    expect(refusal('https://hooks.slack.com/services/T0/B0/s3cr3t')).toBe('accepted');
    expect(refusal('https://contoso.webhook.office.com/webhookb2/s3cr3t')).toBe('accepted');
    expect(refusal('http://hooks.slack.com/services/s3cr3t')).toBe('not-https');
    expect(refusal('https://hooks.slack.com.evil.example/s3cr3t')).toBe('bad-host');
    expect(refusal('https://webhook.office.com/s3cr3t')).toBe('bad-host');
    expect(refusal('https://10.0.0.5/s3cr3t')).toBe('bad-host');
    expect(refusal('https://[::1]/s3cr3t')).toBe('bad-host');
    expect(refusal('https://hooks.slack.com:8443/s3cr3t')).toBe('bad-host');
    expect(refusal('https://user:pw@hooks.slack.com/s3cr3t')).toBe('bad-url');
    expect(refusal('not a url s3cr3t')).toBe('bad-url');
    expect(refusal('http://127.0.0.1:9999/s3cr3t')).toBe('not-https');
  });

  it('takes http to a loopback address only with KEPT_ALERT_ALLOW_HTTP', () => {
    const tests = { ...strict, allowLoopbackHttp: true };
    expect(refusal('http://127.0.0.1:9999/hook/s3cr3t', tests)).toBe('accepted');
    expect(refusal('http://localhost:9999/hook/s3cr3t', tests)).toBe('accepted');
    expect(refusal('http://192.168.1.4:9999/hook/s3cr3t', tests)).toBe('not-https');
  });

  it('shows an address masked', () => {
    expect(maskUrl('https://hooks.slack.com/services/T0/B0/abcdWXYZ')).toBe('https://hooks.slack.com/…WXYZ');
    expect(maskUrl(null)).toBeNull();
  });

  it("builds each service's documented payload", () => {
    const m = { title: 'Kept alert — R: 2 promises broken', lines: ['a <b>', 'c'], link: 'https://kept.example.org/' };
    expect(slackPayload(m)).toEqual({
      text: m.title,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: m.title, emoji: false } },
        { type: 'section', text: { type: 'mrkdwn', text: 'a &lt;b&gt;\nc' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: '<https://kept.example.org/|Open Kept>' }] },
      ],
    });
    const teams = teamsPayload(m) as { type: string; attachments: Array<{ contentType: string; content: { type: string; version: string; body: Array<{ text: string }>; actions: Array<{ type: string; url: string }> } }> };
    expect(teams.type).toBe('message');
    expect(teams.attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(teams.attachments[0]!.content.body.map((b) => b.text)).toEqual([m.title, 'a <b>', 'c']);
    expect(teams.attachments[0]!.content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open Kept', url: m.link }]);
  });
});

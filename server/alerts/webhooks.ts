// Microsoft Teams and Slack incoming webhooks: which addresses Kept will post to, how an address is
// shown (masked: the path is the credential), the payloads each documents, and one POST with a
// deadline. Plain `fetch`: a JSON POST needs no client library.
//
// - Slack (https://api.slack.com/messaging/webhooks): POST `{"text": …, "blocks": [...]}`, answered
//   `200 ok`; `text` is the notification's fallback when blocks are sent.
// - Teams: a Workflows "When a Teams webhook request is received" flow, or a legacy Office 365
//   connector's Incoming Webhook (learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/
//   how-to/add-incoming-webhook): POST `{"type": "message", "attachments": [{"contentType":
//   "application/vnd.microsoft.card.adaptive", "content": <an Adaptive Card>}]}`.
import { isIP } from 'node:net';
import { ValidationError } from '../errors.js';

export type WebhookKind = 'teams' | 'slack';

export interface WebhookPolicy {
  /** Host names allowed (`*.example.com` matches any subdomain). */
  hosts: readonly string[];
  /** KEPT_ALERT_ALLOW_HTTP: also plain http to a loopback address (a test's receiver, a local relay). */
  allowLoopbackHttp: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function hostAllowed(host: string, hosts: readonly string[]): boolean {
  return hosts.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) && host.length > h.length - 1 : host === h));
}

/**
 * Checks an address before it is stored: https to an allowed host (no user info, no port other than
 * 443, no IP literal); or, only with `allowLoopbackHttp`, http(s) to 127.0.0.1/localhost. Throws a
 * ValidationError naming `field` — never quoting the address, which is a secret.
 */
export function checkWebhookUrl(raw: string, field: string, policy: WebhookPolicy): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(field, 'must be a URL (the incoming webhook address Teams or Slack gave you)', 'bad-url');
  }
  if (url.username !== '' || url.password !== '') throw new ValidationError(field, 'must not carry a user name or password', 'bad-url');
  if (policy.allowLoopbackHttp && LOOPBACK.has(url.hostname) && (url.protocol === 'http:' || url.protocol === 'https:')) return url.href;
  if (url.protocol !== 'https:') throw new ValidationError(field, 'must be https', 'not-https');
  if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) throw new ValidationError(field, 'must name a host, not an IP address', 'bad-host');
  if (url.port !== '' && url.port !== '443') throw new ValidationError(field, 'must use the https port (443)', 'bad-host');
  if (!hostAllowed(url.hostname.toLowerCase(), policy.hosts)) throw new ValidationError(field, `must be on one of the allowed webhook hosts (${policy.hosts.join(', ')}; KEPT_ALERT_WEBHOOK_HOSTS)`, 'bad-host');
  return url.href;
}

/** An address as the API and the page show it: scheme, host and the last 4 characters. */
export function maskUrl(raw: string | null): string | null {
  if (raw === null) return null;
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}/…${raw.slice(-4)}`;
  } catch {
    return '…';
  }
}

/** What an alert says, whatever carries it. */
export interface AlertMessage {
  /** One line: the subject of the mail, the card's heading. */
  title: string;
  /** Lines of detail, plain text. */
  lines: string[];
  /** A link to the board or the contact, or null. */
  link: string | null;
}

export function slackPayload(m: AlertMessage): object {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    text: m.title,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: m.title.slice(0, 150), emoji: false } },
      { type: 'section', text: { type: 'mrkdwn', text: m.lines.map(escape).join('\n').slice(0, 2900) || ' ' } },
      ...(m.link !== null ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `<${m.link}|Open Kept>` }] }] : []),
    ],
  };
}

export function teamsPayload(m: AlertMessage): object {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: m.title, weight: 'Bolder', size: 'Medium', wrap: true, style: 'heading' },
            ...m.lines.map((l) => ({ type: 'TextBlock', text: l, wrap: true, spacing: 'Small' })),
          ],
          ...(m.link !== null ? { actions: [{ type: 'Action.OpenUrl', title: 'Open Kept', url: m.link }] } : {}),
        },
      },
    ],
  };
}

/**
 * POSTs the payload; resolves `sent` or a reason (the status, or the error's code: never the address).
 * Redirects are refused: an allowed host must not bounce the post somewhere else.
 */
export async function postWebhook(url: string, payload: object, timeoutMs = 10_000): Promise<string> {
  try {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload), redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer().catch(() => undefined);
    return r.ok ? 'sent' : `refused: HTTP ${r.status}`;
  } catch (e) {
    const err = e as { name?: string; cause?: { code?: string } };
    if (err.name === 'TimeoutError') return `failed: no answer within ${timeoutMs / 1000} s`;
    return `failed: ${err.cause?.code ?? err.name ?? 'network error'}`;
  }
}

// XOAUTH2/OAUTHBEARER (Microsoft 365, Google): Kept fetches an access token from the OAuth2 token
// endpoint (client credentials, or a refresh token) and signs in to the mailbox with it. Against a
// real Dovecot whose oauth2 passdb checks tokens at a token-info endpoint this test serves, as an
// identity provider would.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OAuthTokens } from '../../server/ingest/imap.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { recordSecret, startTestApp, type TestApp } from '../helpers/app.js';

const CLIENT_SECRET = `client-secret-${Date.now()}`;
const issued: string[] = [];
const tokenRequests: URLSearchParams[] = [];
let idp: Server;
let idpUrl: string;
let dovecot: Dovecot;
let t: TestApp | undefined;

beforeAll(async () => {
  recordSecret(CLIENT_SECRET);
  idp = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url === '/token') {
        const form = new URLSearchParams(body);
        tokenRequests.push(form);
        if (form.get('client_secret') !== CLIENT_SECRET) {
          res.statusCode = 401;
          return res.end(JSON.stringify({ error: 'invalid_client' }));
        }
        const token = `access-${issued.length}-${Math.random().toString(36).slice(2)}`;
        issued.push(token);
        recordSecret(token);
        return res.end(JSON.stringify({ token_type: 'Bearer', access_token: token, expires_in: 3599 }));
      }
      // Dovecot's token check: GET /tokeninfo?access_token=…
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('access_token') ?? '';
      res.end(JSON.stringify(issued.includes(token) ? { active: true, username: 'kept-mailbox' } : { active: false }));
    });
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', () => r()));
  idpUrl = `http://127.0.0.1:${(idp.address() as { port: number }).port}`;
  dovecot = await startDovecot({ oauth2TokeninfoUrl: `${idpUrl}/tokeninfo?access_token=` });
});
afterAll(async () => {
  await t?.close();
  await dovecot?.stop();
  idp?.close();
});

it('one token for every folder, renewed only when it expires; a refresh token when one is given', async () => {
  const before = tokenRequests.length;
  const tokens = new OAuthTokens({ tokenUrl: `${idpUrl}/token`, clientId: 'kept', clientSecret: CLIENT_SECRET, refreshToken: '', scope: 'https://outlook.office365.com/.default' });
  const [a, b] = await Promise.all([tokens.get(), tokens.get()]);
  expect(a).toBe(b);
  expect(tokenRequests.length - before).toBe(1);
  expect(Object.fromEntries(tokenRequests.at(-1)!)).toMatchObject({ grant_type: 'client_credentials', client_id: 'kept', scope: 'https://outlook.office365.com/.default' });
  expect(await tokens.get(Date.now() + 3600_000)).not.toBe(a); // past its life: a new one
  const google = new OAuthTokens({ tokenUrl: `${idpUrl}/token`, clientId: 'kept', clientSecret: CLIENT_SECRET, refreshToken: 'refresh-1', scope: 'https://mail.google.com/' });
  await google.get();
  expect(Object.fromEntries(tokenRequests.at(-1)!)).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'refresh-1' });
  const wrong = new OAuthTokens({ tokenUrl: `${idpUrl}/token`, clientId: 'kept', clientSecret: 'wrong', refreshToken: '', scope: 's' });
  await expect(wrong.get()).rejects.toThrow('the OAuth2 token endpoint answered 401 (invalid_client)');
});

it('reads the mailbox signed in with a fetched token, no password configured', async () => {
  const id = `<oauth-${Date.now()}@tenant.example>`;
  await dovecot.deliver('INBOX', `From: Dee <dee@tenant.example>\r\nTo: customer.services@livewest.example\r\nSubject: Rent\r\nDate: ${new Date(Date.now() - 60_000).toUTCString().replace('GMT', '+0000')}\r\nMessage-ID: ${id}\r\n\r\nHello.\r\n`);
  t = await startTestApp({
    KEPT_MAILBOX: 'customer.services@livewest.example',
    KEPT_ORG_DOMAINS: 'livewest.example',
    KEPT_IMAP_HOST: '127.0.0.1',
    KEPT_IMAP_PORT: String(dovecot.port),
    KEPT_IMAP_SECURE: 'false',
    KEPT_IMAP_USER: dovecot.user,
    KEPT_IMAP_OAUTH_TOKEN_URL: `${idpUrl}/token`,
    KEPT_IMAP_OAUTH_CLIENT_ID: 'kept',
    KEPT_IMAP_OAUTH_CLIENT_SECRET: CLIENT_SECRET,
  });
  const end = Date.now() + 15_000;
  while ((await t.service.contacts.byExternal('email', id)) === undefined) {
    if (Date.now() > end) throw new Error(`never read: ${JSON.stringify(t.app.mailReader?.state)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(t.app.mailReader!.state.every((s) => s.lastError === undefined)).toBe(true);
});

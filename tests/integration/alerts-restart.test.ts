// Alert rules across a restart: the quiet period and the events already sent are read back from the
// rule's sends, so a restart neither repeats an alert nor cuts a quiet period short.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret, startTestApp } from '../helpers/app.js';

const posts: string[] = [];
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    posts.push(req.url ?? '');
    res.end('ok');
  });
});
const dir = mkdtempSync(join(tmpdir(), 'kept-alerts-restart-'));
let hooks: string;
beforeAll(async () => {
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  recordSecret('kd-restart-secret-31');
});
afterAll(async () => {
  await new Promise<void>((r) => receiver.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ KEPT_DB: join(dir, 'kept.db'), KEPT_ALERT_ALLOW_HTTP: 'true', KEPT_ALERT_CHECK_SECONDS: '3600' });

describe('alerts across a restart', () => {
  it('sends nothing again after a restart: the threshold still crossed stays within its quiet period; a broken promise already sent is not sent again', async () => {
    const first = await startTestApp(env());
    try {
      const lead = await first.signIn('team-lead');
      for (const body of [
        { name: 'Any call waiting', kind: 'calls-waiting', threshold: 0, slackUrl: `${hooks}/queue/kd-restart-secret-31`, quietMinutes: 60 },
        { name: 'Replies', kind: 'breach', standards: ['email-reply'], slackUrl: `${hooks}/breach/kd-restart-secret-31`, quietMinutes: 0 },
      ]) {
        expect((await first.app.inject({ method: 'POST', url: '/api/v1/alert-rules', headers: lead.headers, payload: body })).statusCode).toBe(201);
      }
      await first.service.createContact({ channel: 'phone', externalId: 'r-call', receivedAt: new Date(Date.now() - 10_000).toISOString() });
      await first.service.createContact({ channel: 'email', externalId: 'r-late', receivedAt: new Date(Date.now() - 10 * 86_400_000).toISOString() });
      expect((await first.app.alerts.evaluateNow()).map((s) => s.outcome)).toEqual([{ slack: 'sent' }, { slack: 'sent' }]);
    } finally {
      await first.service.tokens.revoke('test', Date.now()); // the next app makes its own
      await first.close();
    }
    expect(posts.sort()).toEqual(['/breach/kd-restart-secret-31', '/queue/kd-restart-secret-31']);

    const second = await startTestApp(env());
    try {
      const late = (await second.service.contacts.byExternal('email', 'r-late'))!;
      await second.service.addEvents(late.id, [{ type: 'assigned', at: new Date().toISOString(), assignee: 'advisor@example.org' }]);
      expect(await second.app.alerts.evaluateNow()).toEqual([]);
      expect(posts).toHaveLength(2);
    } finally {
      await second.close();
    }
  });
});

// GET /api/v1/metrics over real HTTP on a real SQLite file: Prometheus' text format for an API token
// only (not a person's session, not anonymous), the figures read at each scrape (a contact posted, a
// board connected), the process's own metrics, and nothing of a customer's. The PostgreSQL figures
// (feed, lease) are checked on three real instances in tests/integration/cluster.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LIVE_PATH } from '../../server/live/protocol.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let base: string;

beforeAll(async () => {
  t = await startTestApp();
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await t?.close();
});

/** A metric's value in the exposition text (the line `name value`, no labels), or undefined. */
function value(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

const scrape = async () => {
  const r = await fetch(`${base}/api/v1/metrics`, { headers: t.auth });
  expect(r.status).toBe(200);
  return r.text();
};

describe('GET /api/v1/metrics', () => {
  it('answers an API token only: 401 anonymous, 401 with a signed-in manager (a session is not a scraper)', async () => {
    expect((await fetch(`${base}/api/v1/metrics`)).status).toBe(401);
    const manager = await t.signIn('manager');
    expect((await fetch(`${base}/api/v1/metrics`, { headers: { cookie: manager.cookie } })).status).toBe(401);
    const r = await fetch(`${base}/api/v1/metrics`, { headers: t.auth });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.headers.get('cache-control')).toBe('no-store');
  });

  it("reads Kept's figures at each scrape, with the process's own; no customer's details", async () => {
    const before = await scrape();
    expect(value(before, 'kept_live_armed')).toBe(1);
    expect(value(before, 'kept_writes_failing')).toBe(0);
    expect(value(before, 'kept_board_clients')).toBe(0);
    expect(before).toMatch(/^# TYPE kept_writer_commits_total counter$/m);
    expect(before).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(before).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    // SQLite: one instance, no feed and no lease.
    expect(before).not.toMatch(/kept_feed_|kept_leader/);

    const clocks = value(before, 'kept_running_clocks')!;
    const commits = value(before, 'kept_writer_commits_total')!;
    const r = await fetch(`${base}/api/v1/contacts`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'email', externalId: 'metrics-1', receivedAt: new Date().toISOString(), customer: { name: 'Mina Metrics', email: 'mina.metrics@tenant.example.org' }, subject: 'Boiler' }),
    });
    expect(r.status).toBe(201);
    const board = new WebSocket(`${base.replace('http', 'ws')}${LIVE_PATH}`, { headers: t.auth });
    await new Promise((resolve) => board.once('message', resolve));
    try {
      const after = await scrape();
      expect(value(after, 'kept_running_clocks')).toBe(clocks + 1);
      expect(value(after, 'kept_writer_commits_total')).toBeGreaterThan(commits);
      expect(value(after, 'kept_board_clients')).toBe(1);
      expect(after).not.toMatch(/Mina|mina\.metrics|tenant\.example/);
    } finally {
      board.terminate();
    }
  });
});

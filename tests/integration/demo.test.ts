// The demo's simulator, a few seconds at high speed against a real app on a listening port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../scripts/simulator.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await startTestApp();
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await t.close();
});

describe('demo simulator', () => {
  it('plays contacts of every channel and their events through the HTTP API', async () => {
    const sim = startSimulator({ baseUrl: base, token: t.token, speed: 600, queueSpeed: 600, seed: 42, stopAfterMs: 4000 });
    const stats = await sim.done;
    expect(stats.errors, stats.firstErrors.join('\n')).toBe(0);

    const sqlite = t.connection.sqlite;
    const channels = sqlite.prepare('SELECT channel, COUNT(*) AS n FROM contacts GROUP BY channel').all() as Array<{ channel: string; n: number }>;
    expect(channels.map((c) => c.channel).sort()).toEqual(['email', 'phone', 'social', 'voicemail', 'webform']);
    expect(channels.reduce((s, c) => s + c.n, 0)).toBe(Object.values(stats.contacts).reduce((s, n) => s + n, 0));

    const events = sqlite.prepare('SELECT type, COUNT(*) AS n FROM events GROUP BY type').all() as Array<{ type: string; n: number }>;
    const types = new Set(events.map((e) => e.type));
    for (const type of ['answered', 'assigned', 'replied']) expect(types, type).toContain(type);

    // Customers, subjects and the categories the day is made of.
    const sample = sqlite.prepare("SELECT customer, subject FROM contacts WHERE channel = 'email' LIMIT 1").get() as { customer: string; subject: string };
    expect(JSON.parse(sample.customer)).toMatchObject({ name: expect.stringMatching(/^\S+ \S+/) });
    expect(sample.subject.length).toBeGreaterThan(3);
    const categories = new Set((sqlite.prepare('SELECT DISTINCT category FROM contacts').all() as Array<{ category: string }>).map((r) => r.category));
    expect(categories).toContain('complaint');
    expect(categories).toContain('emergency-repair');

    // The seeded backlog leaves the board something urgent to show.
    const urgent = sqlite.prepare("SELECT COUNT(*) AS n FROM clocks WHERE open = 1 AND status IN ('at-risk', 'breached')").get() as { n: number };
    expect(urgent.n).toBeGreaterThan(0);
  });
});

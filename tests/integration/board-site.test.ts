// The board's site facts come from its calendar and the configuration, not from the code: a centre
// with other hours, another zone and its own words gets a right board (KEPT_BOARD_CALENDAR,
// KEPT_PUBLIC_*_MESSAGE); a setting naming what does not exist stops Kept with the setting named.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase, type Connection } from '../../db/connection.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { buildApp } from '../../server/http/app.js';
import { IngestService } from '../../server/ingest/service.js';
import type { ServerMessage, SnapshotMessage } from '../../server/live/protocol.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let seeded: TestApp;
const opened: Array<{ close(): Promise<void> }> = [];

/** An app on the seeded database with these settings (built, not yet listening). */
async function appWith(env: Record<string, string>) {
  const config = loadConfig({ KEPT_DB: seeded.config.dbFile, KEPT_WEB_ROOT: join(seeded.dir, 'no-web'), ...env });
  const connection: Connection = openDatabase(config.dbFile);
  const service = new IngestService(connection, { packFamily: config.packFamily, writerThread: true });
  const close = async () => {
    await service.close();
    connection.close();
  };
  try {
    const app = await buildApp({ config, service });
    await app.liveArmed;
    opened.push({ close: async () => (await app.close(), await close()) });
    return app;
  } catch (e) {
    await close();
    throw e;
  }
}

const HOURS = { start: '06:00', end: '22:00' };

beforeAll(async () => {
  seeded = await startTestApp();
  // A repairs line in India, open every day 06:00–22:00 (calendars are rows: there is no route to add one).
  const days = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
  seeded.connection.sqlite
    .prepare('INSERT INTO calendars (id, name, time_zone, weekly_hours, division, working_day_ms, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run('repairs', 'Repairs line', 'Asia/Kolkata', JSON.stringify(Object.fromEntries(days.map((d) => [d, [[HOURS.start, HOURS.end]]]))), 'england-and-wales', 16 * 3_600_000, Date.now());
});

afterAll(async () => {
  for (const o of opened.splice(0)) await o.close();
  await seeded?.close();
});

describe('the board follows KEPT_BOARD_CALENDAR and the configured words', () => {
  it("heading, zone, today, open now and the intraday chart's span are the calendar's; the public words are the configured ones", async () => {
    const app = await appWith({
      KEPT_BOARD_CALENDAR: 'repairs',
      KEPT_PUBLIC_OPEN_MESSAGE: 'Repairs line open: calls answered within {phoneTarget}.',
      KEPT_PUBLIC_CLOSED_MESSAGE: 'Repairs line closed; back {nextOpening}.',
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/live`, { headers: seeded.auth });
    const snap = await new Promise<ServerMessage>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d)) as ServerMessage));
      ws.once('error', reject);
    });
    ws.close();
    expect(snap.type).toBe('snapshot');
    const board = (snap as SnapshotMessage).board;
    const now = Date.parse(board.at);
    const local = (options: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Kolkata', hourCycle: 'h23', ...options }).format(now);
    const hhmm = local({ hour: '2-digit', minute: '2-digit' });
    const open = hhmm >= HOURS.start && hhmm < HOURS.end;
    expect(board).toMatchObject({ calendar: 'repairs', title: 'Repairs line', timeZone: 'Asia/Kolkata', openNow: open });
    expect(board.today).toBe(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata' }).format(now));
    // No contacts today: the chart spans the opening hours (and runs on to now after closing).
    expect(board.intraday[0]!.label).toBe('06:00');
    expect(board.intraday.map((b) => b.label)).toContain('21:30');
    expect(board.busy.message).toEqual(open ? 'Repairs line open: calls answered within 5 minutes.' : expect.stringMatching(/^Repairs line closed; back (today|tomorrow) at 06:00\.$/));
    const status = await fetch(`${base}/api/v1/status/public`);
    expect(((await status.json()) as { open: boolean; message: string }).message).toBe(board.busy.message);
  });

  it('refuses a calendar that does not exist, naming the setting', async () => {
    const refused = (await appWith({ KEPT_BOARD_CALENDAR: 'nowhere' }).catch((e: unknown) => e)) as Error;
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused.message).toBe('KEPT_BOARD_CALENDAR: no calendar "nowhere" (known: always, customer-services, repairs, awaab-working-days)');
  });

  it('refuses words with an unknown placeholder, or a target the pack has not got', async () => {
    expect(() => loadConfig({ KEPT_PUBLIC_OPEN_MESSAGE: 'Open, we answer within {target}.' })).toThrow(/^KEPT_PUBLIC_OPEN_MESSAGE: must match pattern/);
    expect(() => loadConfig({ KEPT_PUBLIC_BUSY_MESSAGE: 'Busy until {nextOpening}.' })).toThrow(/KEPT_PUBLIC_BUSY_MESSAGE/);
    await expect(appWith({ KEPT_PACK: 'housing-ombudsman', KEPT_PUBLIC_OPEN_MESSAGE: 'Calls answered within {phoneTarget}.' })).rejects.toThrow(/KEPT_PUBLIC_OPEN_MESSAGE: uses \{phoneTarget\}, but the standards pack in force has no phone-answer standard/);
    // With that pack and the default words, Kept starts and promises nothing it does not measure.
    const app = await appWith({ KEPT_PACK: 'housing-ombudsman' });
    expect(app.live.publicStatus(Date.parse('2026-03-10T10:00:00Z')).message).toBe('We are open.');
  });
});

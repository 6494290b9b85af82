// The reader threads (issue 9, server/readers/): the real app over real HTTP with two reader threads on
// a real SQLite file. A read after a 2xx sees that write (each read transaction starts from the last
// commit in the WAL); a read goes on while another process holds BEGIN EXCLUSIVE (and does not see that
// process's uncommitted change); a thread that dies mid-read answers 503 naming why and the next read
// works; concurrent reads are spread over the threads and answer what the main connection would; the
// queue of calls is bounded; app.close() stops the threads.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { loadConfig } from '../../server/config.js';
import { buildApp } from '../../server/http/app.js';
import { IngestService } from '../../server/ingest/service.js';
import { ReaderPool } from '../../server/readers/pool.js';
import { inlineReads } from '../../server/readers/reads.js';
import { TokenStore } from '../../server/store/tokens.js';
import fastJson from 'fast-json-stringify';
import { ContactReply } from '../../server/http/schemas.js';
import { recordSecret, testLogDir } from '../helpers/app.js';

const root = join(import.meta.dirname, '..', '..');

interface Running {
  app: FastifyInstance;
  service: IngestService;
  connection: Connection;
  base: string;
  auth: { authorization: string };
  dir: string;
  close(): Promise<void>;
}

let logs = 0;

/** The app as main.ts builds it (writer thread, two reader threads that take the crash hook), listening on 127.0.0.1. */
async function start(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'kept-readers-'));
  const config = loadConfig({ KEPT_DB: join(dir, 'kept.db'), KEPT_WEB_ROOT: join(dir, 'no-web'), KEPT_READER_THREADS: '2', HOST: '127.0.0.1', PORT: '0' });
  const connection = openDatabase(config.dbFile);
  const service = new IngestService(connection, { packFamily: config.packFamily, writerThread: true, writeTimeoutMs: config.writeTimeoutMs });
  const token = new TokenStore(connection.sqlite).create('readers', Date.now());
  recordSecret(token);
  const log = createWriteStream(join(testLogDir(), `readers-${process.pid}-${++logs}.log`));
  const app = await buildApp({ config, service, logger: log, readerTestHooks: true });
  await service.writerReady;
  await app.listen({ host: '127.0.0.1', port: 0 });
  await app.liveArmed;
  const address = app.server.address() as { port: number };
  return {
    app,
    service,
    connection,
    base: `http://127.0.0.1:${address.port}`,
    auth: { authorization: `Bearer ${token}` },
    dir,
    close: async () => {
      await app.close();
      await service.close();
      connection.close();
      log.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let s: Running;
const children: ChildProcess[] = [];

beforeAll(async () => {
  s = await start();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await s?.close();
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const r = await fetch(`${s.base}${path}`, { headers: s.auth, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown>, retryAfter: r.headers.get('retry-after') };
}

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${s.base}${path}`, {
    method: 'POST',
    headers: { ...s.auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

let serial = 0;
const newContact = ({ assignee, ...extra }: Record<string, unknown> = {}) => {
  const receivedAt = new Date(Date.now() - 60_000).toISOString();
  return {
    channel: 'email',
    externalId: `readers-${process.pid}-${++serial}`,
    receivedAt,
    subject: `Reader test ${serial}`,
    ...(assignee === undefined ? {} : { events: [{ type: 'assigned', at: receivedAt, assignee }] }),
    ...extra,
  };
};

describe('reader threads', () => {
  it('reads on two threads, never on the main connection', () => {
    expect(s.app.readerPool).not.toBeNull();
    expect(s.app.readerPool!.threads).toBe(2);
  });

  it("read-your-writes: a GET at once after each 2xx sees the write (the contact, its event, the assignee's list), 60 times", async () => {
    const before = s.app.readerPool!.served.reduce((a, b) => a + b, 0);
    for (let i = 0; i < 60; i++) {
      const assignee = `advisor-${i % 3}@staff.example.org`;
      const created = await post('/api/v1/contacts', newContact({ assignee }));
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      // The contact, at once.
      const one = await get(`/api/v1/contacts/${id}`);
      expect(one.status).toBe(200);
      expect(one.body.id).toBe(id);
      // An event added, then read at once: the clock it ends is ended in the answer.
      const replied = await post(`/api/v1/contacts/${id}/events`, { type: 'replied', at: new Date().toISOString() });
      expect(replied.status).toBe(200);
      const again = await get(`/api/v1/contacts/${id}`);
      expect((again.body.events as Array<{ type: string }>).map((e) => e.type)).toContain('replied');
      expect(again.body.clocks).toEqual((replied.body.contact as { clocks: unknown }).clocks);
      // The newest of the assignee's list is it.
      const list = await get(`/api/v1/contacts?assignee=${encodeURIComponent(assignee)}&limit=1`);
      expect((list.body.items as Array<{ id: string }>)[0]!.id).toBe(id);
    }
    // Every one of those reads went to a thread.
    expect(s.app.readerPool!.served.reduce((a, b) => a + b, 0) - before).toBeGreaterThanOrEqual(180);
  });

  it("reads go on while another process holds BEGIN EXCLUSIVE, and do not see that process's uncommitted change", async () => {
    const created = await post('/api/v1/contacts', newContact({ subject: 'Before the lock' }));
    const id = created.body.id as string;
    const locker = spawn(
      process.execPath,
      [
        '-e',
        `const Database = require('better-sqlite3');
         const db = new Database(process.argv[1]);
         db.exec('BEGIN EXCLUSIVE');
         db.prepare("UPDATE contacts SET subject = 'Not committed' WHERE id = ?").run(process.argv[2]);
         process.stdout.write('locked\\n');
         process.stdin.on('data', () => { db.exec('ROLLBACK'); db.close(); process.stdout.write('released\\n'); process.exit(0); });`,
        s.connection.sqlite.name,
        id,
      ],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(locker);
    locker.stdout!.setEncoding('utf8');
    let said = '';
    const heard = (word: string) =>
      new Promise<void>((ok, fail) => {
        const check = () => said.includes(word) && ok();
        locker.stdout!.on('data', (d: string) => ((said += d), check()));
        locker.once('exit', () => (said.includes(word) ? ok() : fail(new Error(`the locking process exited before saying ${word}`))));
        check();
      });
    await heard('locked');
    try {
      const before = s.app.readerPool!.served.reduce((a, b) => a + b, 0);
      for (let i = 0; i < 10; i++) {
        const one = await get(`/api/v1/contacts/${id}`);
        expect(one.status).toBe(200);
        expect(one.body.subject).toBe('Before the lock');
        const list = await get('/api/v1/contacts?limit=5');
        expect(list.status).toBe(200);
        expect((list.body.items as Array<{ id: string; subject: string }>).find((c) => c.id === id)?.subject).toBe('Before the lock');
      }
      expect(s.app.readerPool!.served.reduce((a, b) => a + b, 0) - before).toBe(20);
    } finally {
      locker.stdin!.write('go\n');
      await heard('released');
    }
  });

  it('a reader thread that dies in the middle of a read: that read answers 503 naming the cause, the next one works', async () => {
    const created = await post('/api/v1/contacts', newContact());
    const id = created.body.id as string;
    const pool = s.app.readerPool!;
    for (let round = 0; round < 2; round++) {
      pool.crashForTest(70);
      const servedBefore = pool.served.reduce((a, b) => a + b, 0);
      const failed = await get(`/api/v1/contacts/${id}`);
      expect(failed.status).toBe(503);
      expect(failed.body.code).toBe('reader-stopped');
      expect(failed.body.message).toMatch(/reader thread exited \(code 70\)/);
      expect(failed.retryAfter).toBe('1');
      expect(pool.served.reduce((a, b) => a + b, 0)).toBe(servedBefore);
      const next = await get(`/api/v1/contacts/${id}`);
      expect(next.status).toBe(200);
      expect(next.body.id).toBe(id);
    }
    // The dead threads were replaced: soon both slots answer again (many reads at once reach both).
    const until = Date.now() + 10_000;
    let spread = false;
    while (!spread && Date.now() < until) {
      const before = pool.served;
      const answers = await Promise.all(Array.from({ length: 16 }, () => get(`/api/v1/contacts/${id}`)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      spread = pool.served.every((n, i) => n > before[i]!);
    }
    expect(spread).toBe(true);
  });

  it('many reads at once are spread over the threads and answer what the main connection would', async () => {
    for (let i = 0; i < 30; i++) expect((await post('/api/v1/contacts', newContact({ category: i % 2 ? 'complaint' : 'general' }))).status).toBe(201);
    const paths = ['/api/v1/contacts?limit=20', '/api/v1/contacts?status=open&limit=20', '/api/v1/contacts?category=complaint&limit=10'];
    const expected = await Promise.all(paths.map((p) => get(p)));
    for (const e of expected) expect(e.status).toBe(200);
    const before = s.app.readerPool!.served;
    const answers = await Promise.all(Array.from({ length: 90 }, (_, i) => get(paths[i % paths.length]!)));
    const after = s.app.readerPool!.served;
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(200);
      expect(a.body).toEqual(expected[i % paths.length]!.body);
    }
    const counts = after.map((n, i) => n - before[i]!);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(90);
    expect(counts.every((n) => n > 0)).toBe(true);
    // The same rows the main connection reads (structured clone keeps every field).
    const main = inlineReads(s.connection.sqlite, () => s.service.calendars);
    const f = { limit: 21, now: Date.now() };
    expect(await s.app.reads.contacts.page(f)).toEqual(await main.contacts.page(f));
    const ids = (await main.contacts.list(f)).map((r) => r.id);
    expect(await s.app.reads.contacts.clocksOf(ids)).toEqual(await main.contacts.clocksOf(ids));
  });

  it('My queue and the contact page read through the threads', async () => {
    const assignee = 'queue-reader@staff.example.org';
    const created = await post('/api/v1/contacts', newContact({ assignee }));
    const id = created.body.id as string;
    const before = s.app.readerPool!.served.reduce((a, b) => a + b, 0);
    const queue = await get(`/api/v1/queue?assignee=${encodeURIComponent(assignee)}`);
    expect(queue.status).toBe(200);
    expect((queue.body.items as Array<{ id: string }>).map((c) => c.id)).toEqual([id]);
    const page = await get(`/api/v1/contacts/${id}/page`);
    expect(page.status).toBe(200);
    expect((page.body.contact as { id: string }).id).toBe(id);
    expect(Object.keys(page.body.explanations as object).length).toBeGreaterThan(0);
    expect(s.app.readerPool!.served.reduce((a, b) => a + b, 0) - before).toBe(2);
  });

  it("answers the same JSON text as the route's schema writes for the views presented on the main thread", async () => {
    const created = await post('/api/v1/contacts', newContact({ customer: { name: 'Ada Testperson', vulnerability: 'hard of hearing' }, summary: 'Damp and mould in the back bedroom' }));
    const id = created.body.id as string;
    await post(`/api/v1/contacts/${id}/events`, { type: 'replied', at: new Date().toISOString(), note: 'Called back' });
    const now = Date.now();
    // The route's own schema, compiled as Fastify compiles it (fast-json-stringify), over the old path's view.
    const contactText = fastJson(ContactReply as object);
    const r = await fetch(`${s.base}/api/v1/contacts/${id}`, { headers: s.auth });
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const text = await r.text();
    // Times judged as of another instant may differ (remainingMs): compare with the view at the answer's own now.
    const view = (await s.service.view(id, now))!;
    expect(JSON.parse(text).hazardSuggestion).toEqual(view.hazardSuggestion);
    expect(text.replace(/"remainingMs":-?\d+/g, '')).toBe(contactText(view).replace(/"remainingMs":-?\d+/g, ''));
    const listText = fastJson({ type: 'object', properties: { items: { type: 'array', items: ContactReply }, nextCursor: { anyOf: [{ type: 'string' }, { type: 'null' }] } } });
    const list = await (await fetch(`${s.base}/api/v1/contacts?limit=3`, { headers: s.auth })).text();
    const rows = await s.service.contacts.list({ limit: 4, now });
    const expected = listText({ items: await s.service.views(rows.slice(0, 3), now), nextCursor: JSON.parse(list).nextCursor });
    expect(list.replace(/"remainingMs":-?\d+/g, '')).toBe(expected.replace(/"remainingMs":-?\d+/g, ''));
  });
});

describe('calendars', () => {
  it("a calendar edit: the threads present with the new calendars as soon as the main thread's are reloaded", async () => {
    const created = await post('/api/v1/contacts', { channel: 'email', externalId: `readers-cal-${process.pid}`, receivedAt: '2099-12-23T10:00:00Z' });
    const id = created.body.id as string;
    // Judged past its due instant: breached as of then, its counted time read from the calendar.
    const later = Date.parse('2099-12-29T12:00:00Z');
    // Asked of every thread (several at once reach each), each answer the main thread's own view.
    const counted = async () => {
      const texts = await Promise.all(Array.from({ length: 8 }, () => s.app.reads.views.contact(id, later)));
      for (const text of texts) expect(text).toBe(JSON.stringify(await s.service.view(id, later)));
      return (JSON.parse(texts[0]!) as { clocks: Array<{ countedMs: number; status: string }> }).clocks[0]!;
    };
    const before = await counted();
    expect(before.status).toBe('breached');
    const added = await post('/api/v1/calendars/customer-services/closures', { from: '2099-12-24T09:00:00Z', to: '2099-12-24T17:00:00Z', reason: 'A reader test' });
    expect(added.status).toBe(201);
    const during = await counted();
    expect(during.countedMs).toBeLessThan(before.countedMs);
    const removed = await fetch(`${s.base}/api/v1/calendars/customer-services/closures/${added.body.id as number}`, { method: 'DELETE', headers: s.auth });
    expect(removed.status).toBe(200);
    expect((await counted()).countedMs).toBe(before.countedMs);
  });
});

describe('the pool by itself', () => {
  it('refuses calls past its bound with 503 "reads busy" instead of queueing without limit, and stops on close', async () => {
    const pool = new ReaderPool({ file: s.connection.sqlite.name, threads: 1, maxInFlight: 3 });
    try {
      const calls = Array.from({ length: 8 }, () => pool.reads.contacts.countRows());
      const settled = await Promise.allSettled(calls);
      const ok = settled.filter((r) => r.status === 'fulfilled');
      const refused = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok.length).toBe(3);
      expect(refused.length).toBe(5);
      for (const r of refused) expect(r.reason).toMatchObject({ status: 503, code: 'readers-busy', retryAfter: 1 });
      expect((ok[0] as PromiseFulfilledResult<{ contacts: number }>).value.contacts).toBe(s.connection.sqlite.prepare('SELECT COUNT(*) AS n FROM contacts').pluck().get());
    } finally {
      await pool.close();
    }
    await expect(pool.reads.contacts.byId('x')).rejects.toMatchObject({ status: 503, code: 'reader-stopped' });
  });

  it('an error inside a read rejects that call only', async () => {
    const pool = new ReaderPool({ file: s.connection.sqlite.name, threads: 1 });
    try {
      // A read the table does not have: the thread's error comes back as this call's rejection, and the thread goes on.
      await expect(pool.call('contacts.nothing' as never, [])).rejects.toThrow(/no read named "contacts.nothing"/);
      expect(await pool.reads.contacts.byId('no-such-contact')).toBeUndefined();
    } finally {
      await pool.close();
    }
  });

  it('a thread that cannot open the database fails its calls with 503 naming why', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'kept-readers-missing-')), 'none.db');
    const pool = new ReaderPool({ file: missing, threads: 1 });
    try {
      await expect(pool.reads.contacts.byId('x')).rejects.toMatchObject({ status: 503, code: 'reader-stopped', message: expect.stringMatching(/could not open the database/) });
    } finally {
      await pool.close();
    }
  });
});

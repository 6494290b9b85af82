// The front door's stores' contract (issue 14 item 1): the same calls, in the same order, against
// asyncOf(the SQLite TokenStore, PeopleStore, AuditStore) on a temp file and the PostgreSQL PgTokenStore,
// PgPeopleStore, PgAuditStore on a fresh database give the same answers (deep-equal), and the answers
// are the ones the stores promise (checked inside each script, so both being wrong alike fails too):
// every method, the refusals with the store's own error class and message, unknown and revoked tokens,
// a disabled user, sessions sliding and ending idle and at their absolute end, the lock after N failed
// sign-ins, the audit trail's pages by every filter followed through `next`. Secrets differ between the
// databases (random), so a script speaks of their shapes, never their values.
//
// Then PostgreSQL alone, with two pools standing for two instances: failed sign-ins at once all count,
// one email or one token name created at once by both goes to one (the other gets the store's error),
// a token revoked by one instance stops verifying on the other within RECHECK_MS, and no secret is
// stored in clear on either database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { openPostgres, type PgConnection } from '../../db/pg/connection.js';
import { AuditStore, type AuditEntry, type AuditQuery } from '../../server/store/audit.js';
import { PeopleError, PeopleStore, sha256, type SessionLifetimes } from '../../server/store/people.js';
import { PgAuditStore } from '../../server/store/pg/audit.js';
import { PgPeopleStore } from '../../server/store/pg/people.js';
import { PgTokenStore } from '../../server/store/pg/tokens.js';
import { asyncOf, AUDIT_STORE, PEOPLE_STORE, TOKEN_STORE, type AuditStorePort, type PeopleStorePort, type TokenStorePort } from '../../server/store/ports.js';
import { hashToken, RECHECK_MS, TokenStore } from '../../server/store/tokens.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

const MINUTE = 60_000;
const NOW = Date.UTC(2026, 10, 18, 9, 0, 0);
const LIFETIMES: SessionLifetimes = { idleMs: 30 * MINUTE, absoluteMs: 8 * 60 * MINUTE };

interface Stores {
  tokens: TokenStorePort;
  people: PeopleStorePort;
  audit: AuditStorePort;
}

let dir: string;
let sqlite: Connection;
let testPg: TestPg;
let pgA: PgConnection;
let pgB: PgConnection;
const sides = {} as Record<'sqlite' | 'postgresql', Stores>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kept-store-contract-people-'));
  sqlite = openDatabase(join(dir, 'kept.db'));
  sides.sqlite = {
    tokens: asyncOf(new TokenStore(sqlite.sqlite), TOKEN_STORE),
    people: asyncOf(new PeopleStore(sqlite.sqlite), PEOPLE_STORE),
    audit: asyncOf(new AuditStore(sqlite.sqlite), AUDIT_STORE),
  };
  testPg = await freshPgDatabase('kept_contract_people');
  pgA = await openPostgres(testPg.url, { max: 4 });
  pgB = await openPostgres(testPg.url, { max: 4, migrate: false });
  sides.postgresql = { tokens: new PgTokenStore(pgA.pool), people: new PgPeopleStore(pgA.pool), audit: new PgAuditStore(pgA.pool) };
});

afterAll(async () => {
  sqlite?.close();
  await pgA?.close();
  await pgB?.close();
  await testPg?.drop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** A call's answer, or the error it threw as its class and message (what a caller could tell apart). */
async function attempt(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await call() };
  } catch (e) {
    return { error: (e as Error).constructor.name, message: (e as Error).message };
  }
}

/** Runs a script on both databases: the transcripts must be equal, and each script checks its own answers as it goes. */
async function bothSay(script: (s: Stores) => Promise<unknown[]>): Promise<unknown[]> {
  const onSqlite = await script(sides.sqlite);
  const onPg = await script(sides.postgresql);
  expect(onPg).toEqual(onSqlite);
  return onSqlite;
}

describe('the same answers from SQLite and PostgreSQL', () => {
  it('tokens: create, list, verify, revoke, a name free again once revoked', async () => {
    await bothSay(async ({ tokens }) => {
      const out: unknown[] = [];
      const made = new Map<string, string>();
      for (const name of ['alpha', 'Beta', 'a-b', 'a_b', 'a.b', '0x']) made.set(name, await tokens.create(name, NOW));
      for (const t of made.values()) expect(t).toMatch(/^kept_[A-Za-z0-9_-]{32}$/);
      const refused = [await attempt(() => tokens.create('has space', NOW)), await attempt(() => tokens.create('x'.repeat(65), NOW)), await attempt(() => tokens.create('alpha', NOW + 1))];
      expect(refused[2]).toEqual({ error: 'Error', message: 'a token named "alpha" already exists (revoke it first)' });
      out.push(refused, await tokens.list());
      expect((await tokens.list()).map((t) => t.name)).toEqual(['0x', 'Beta', 'a-b', 'a.b', 'a_b', 'alpha']); // bytewise, as SQLite orders
      const alpha = made.get('alpha')!;
      const verified = [await tokens.verify(alpha), await tokens.verify(alpha), await tokens.verify(made.get('Beta')!), await tokens.verify(`kept_${'A'.repeat(32)}`), await tokens.verify('')];
      expect(verified).toEqual(['alpha', 'alpha', 'Beta', undefined, undefined]);
      const revoked = [await tokens.revoke('alpha', NOW + 2), await tokens.revoke('alpha', NOW + 3), await tokens.revoke('nobody', NOW + 3)];
      expect(revoked).toEqual([true, false, false]);
      const afterRevoke = [await tokens.verify(alpha), await tokens.verify(made.get('Beta')!)];
      expect(afterRevoke).toEqual([undefined, 'Beta']);
      const again = await tokens.create('alpha', NOW + 4);
      const reborn = [await tokens.verify(again), await tokens.verify(alpha), await tokens.list()];
      expect(reborn[0]).toBe('alpha');
      expect(reborn[1]).toBeUndefined();
      out.push(verified, revoked, afterRevoke, reborn);
      return out;
    });
  });

  it('users: create with its checks, look-ups, queues, disable and enable, the lock after N failures', async () => {
    const said = await bothSay(async ({ people }) => {
      const out: unknown[] = [];
      const ann = await people.create({ email: ' Ann@Example.org ', name: ' Ann ', role: 'admin', queues: ['repairs', ' rents ', 'repairs', ''], passwordHash: 'h-ann' }, NOW);
      expect(ann).toMatchObject({ email: 'ann@example.org', name: 'Ann', role: 'admin', mustChangePassword: true, queues: ['repairs', 'rents'], disabled: false, lockedUntil: null, createdAt: NOW });
      out.push(ann);
      out.push(
        await attempt(() => people.create({ email: 'not an email', name: 'X', role: 'advisor', passwordHash: 'h' }, NOW)),
        await attempt(() => people.create({ email: 'x@example.org', name: 'X', role: 'emperor', passwordHash: 'h' }, NOW)),
        await attempt(() => people.create({ email: 'x@example.org', name: '   ', role: 'advisor', passwordHash: 'h' }, NOW)),
        await attempt(() => people.create({ email: 'x@example.org', name: 'X', role: 'advisor', queues: ['Bad Queue'], passwordHash: 'h' }, NOW)),
      );
      const taken = await attempt(() => people.create({ email: 'ANN@example.org', name: 'Another', role: 'advisor', passwordHash: 'h' }, NOW));
      expect(taken).toEqual({ error: 'PeopleError', message: 'a user ann@example.org already exists' });
      out.push(taken);
      for (const email of ['bob@example.org', 'a.b@example.org', 'a-b@example.org', 'a_b@example.org', 'Zed@example.org']) {
        out.push(await people.create({ email, name: email.split('@')[0]!, role: 'advisor', queues: ['repairs'], passwordHash: `h-${email}` }, NOW + 1));
      }
      const bob = (await people.byEmail(' BOB@example.org'))!;
      expect(bob.id).toBe(ann.id + 1); // a refused create takes no id
      expect(bob).toMatchObject({ passwordHash: 'h-bob@example.org', failedSignins: 0 });
      const list = await people.list();
      expect(list.map((u) => u.email)).toEqual(['a-b@example.org', 'a.b@example.org', 'a_b@example.org', 'ann@example.org', 'bob@example.org', 'zed@example.org']);
      out.push(bob, await people.byEmail('nobody@example.org'), await people.byId(ann.id), await people.byId(9999), list);

      out.push(await attempt(() => people.setQueues(bob.id, ['Bad Queue'], NOW + 2)));
      await people.setQueues(bob.id, ['rents', 'repairs', 'rents'], NOW + 2);
      expect((await people.byId(bob.id))!.queues).toEqual(['rents', 'repairs']);

      // Three failures in a row lock for 15 minutes, and the count starts again.
      const failures = [];
      for (let i = 0; i < 3; i++) failures.push(await people.recordFailure(bob.id, 3, 15 * MINUTE, NOW + 10 + i));
      expect(failures).toEqual([false, false, true]);
      const locked = (await people.byId(bob.id))!;
      expect(locked).toMatchObject({ failedSignins: 0, lockedUntil: NOW + 12 + 15 * MINUTE });
      out.push(failures, locked, await people.recordFailure(9999, 3, MINUTE, NOW));
      await people.recordFailure(bob.id, 3, 15 * MINUTE, NOW + 20);
      expect((await people.byId(bob.id))!.failedSignins).toBe(1);
      await people.clearFailures(bob.id);
      const cleared = (await people.byId(bob.id))!;
      expect(cleared).toMatchObject({ failedSignins: 0, lockedUntil: null });
      out.push(cleared);
      // A new password clears a lock too.
      for (let i = 0; i < 3; i++) await people.recordFailure(bob.id, 3, 15 * MINUTE, NOW + 30);
      await people.setPassword(bob.id, 'h-bob-2', false, NOW + 40);
      const reset = (await people.byId(bob.id))!;
      expect(reset).toMatchObject({ passwordHash: 'h-bob-2', mustChangePassword: false, failedSignins: 0, lockedUntil: null });
      out.push(reset);

      const switches = [await people.disable(bob.id, NOW + 50), await people.disable(bob.id, NOW + 51), await people.disable(9999, NOW), (await people.byId(bob.id))!.disabled];
      switches.push(await people.enable(bob.id, NOW + 52), await people.enable(9999, NOW), (await people.byId(bob.id))!.disabled);
      expect(switches).toEqual([true, false, false, true, true, false, false]);
      out.push(switches);
      return out;
    });
    expect(said.length).toBeGreaterThan(10);
  });

  it('sessions: sliding, idle and absolute ends, ending one, all but one, a disabled user, a new password', async () => {
    await bothSay(async ({ people }) => {
      const out: unknown[] = [];
      const cy = await people.create({ email: 'cy@example.org', name: 'Cy', role: 'team-lead', passwordHash: 'h-cy' }, NOW);
      const di = await people.create({ email: 'di@example.org', name: 'Di', role: 'advisor', passwordHash: 'h-di' }, NOW);
      const s1 = await people.startSession(cy.id, LIFETIMES, NOW);
      const s2 = await people.startSession(cy.id, LIFETIMES, NOW); // the same millisecond: newest id first
      const s3 = await people.startSession(cy.id, LIFETIMES, NOW + 1000);
      expect(new Set([s1, s2, s3]).size).toBe(3);
      for (const s of [s1, s2, s3]) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const first = (await people.session(s1, LIFETIMES, NOW + 30_000))!;
      expect(first.user).toMatchObject({ email: 'cy@example.org', passwordHash: 'h-cy' });
      out.push(first, await people.sessions(cy.id)); // within a minute: last_seen_at not written
      const slid = (await people.session(s1, LIFETIMES, NOW + 61_000))!;
      expect((await people.sessions(cy.id)).find((x) => x.id === slid.sessionId)!.lastSeenAt).toBe(NOW + 61_000);
      out.push(await people.sessions(cy.id), await people.sessions(cy.id, 2));

      // Idle: s3 never seen again, gone at exactly idleMs; s2 kept alive by sliding until the absolute end.
      out.push(await people.session(s3, LIFETIMES, NOW + 1000 + LIFETIMES.idleMs - 1), await people.session(s3, LIFETIMES, NOW + 1000 + LIFETIMES.idleMs - 1 + LIFETIMES.idleMs));
      expect(out.at(-2)).toBeDefined();
      expect(out.at(-1)).toBeUndefined();
      const alive: boolean[] = [];
      for (let t = NOW + 20 * MINUTE; t <= NOW + LIFETIMES.absoluteMs + 20 * MINUTE; t += 20 * MINUTE) alive.push((await people.session(s2, LIFETIMES, t)) !== undefined);
      expect(alive.filter(Boolean)).toHaveLength(LIFETIMES.absoluteMs / (20 * MINUTE) - 1);
      expect(alive.at(-1)).toBe(false);
      out.push(alive);

      // Unknown, too short, too long.
      out.push(await people.session('A'.repeat(43), LIFETIMES, NOW), await people.session('short', LIFETIMES, NOW), await people.session('A'.repeat(101), LIFETIMES, NOW));

      // Ending one, then all but one.
      const t = NOW + 10 * MINUTE;
      const [k1, k2, k3] = [await people.startSession(cy.id, LIFETIMES, t), await people.startSession(cy.id, LIFETIMES, t + 1), await people.startSession(cy.id, LIFETIMES, t + 2)];
      const keep = (await people.session(k3, LIFETIMES, t + 3))!.sessionId;
      await people.endSession((await people.session(k1, LIFETIMES, t + 3))!.sessionId, t + 4);
      const ended = [await people.session(k1, LIFETIMES, t + 5), (await people.session(k2, LIFETIMES, t + 5))?.sessionId];
      const revoked = await people.revokeAll(cy.id, t + 6, keep);
      expect(revoked).toBe(4); // k2, and s1, s2, s3: run out, never revoked (k1 was ended, k3 kept)
      const afterAll = [await people.session(k2, LIFETIMES, t + 7), (await people.session(k3, LIFETIMES, t + 7))?.sessionId];
      expect(afterAll).toEqual([undefined, keep]);
      out.push(ended, revoked, afterAll, await people.revokeAll(cy.id, t + 8), await people.session(k3, LIFETIMES, t + 9), await people.sessions(cy.id));

      // A disabled user's sessions end; enabling the account does not bring them back. A new password ends them too.
      const d1 = await people.startSession(di.id, LIFETIMES, t);
      expect(await people.session(d1, LIFETIMES, t + 1)).toBeDefined();
      await people.disable(di.id, t + 2);
      await people.enable(di.id, t + 3);
      const d2 = await people.startSession(di.id, LIFETIMES, t + 4);
      await people.setPassword(di.id, 'h-di-2', true, t + 5);
      const gone = [await people.session(d1, LIFETIMES, t + 6), await people.session(d2, LIFETIMES, t + 6)];
      expect(gone).toEqual([undefined, undefined]);
      out.push(gone, await people.sessions(di.id));
      return out;
    });
  });

  it('displays: create with its check, list, find by secret, revoke', async () => {
    await bothSay(async ({ people }) => {
      const out: unknown[] = [];
      const wall = await people.createDisplay('  Wall one ', 'ann@example.org', NOW);
      const lobby = await people.createDisplay('Lobby', 'ann@example.org', NOW + 1);
      expect(wall.secret).toMatch(/^kd_[A-Za-z0-9_-]{43}$/);
      expect(wall.display).toEqual({ id: wall.display.id, name: 'Wall one', createdAt: NOW, createdBy: 'ann@example.org', revokedAt: null });
      out.push(wall.display, lobby.display, await attempt(() => people.createDisplay(' ', 'ann@example.org', NOW)), await attempt(() => people.createDisplay('x'.repeat(101), 'ann@example.org', NOW)));
      out.push(await people.displays(), await people.display(wall.secret), await people.display(`kd_${'A'.repeat(43)}`), await people.display('kd_short'));
      expect(await people.display(lobby.secret)).toEqual(lobby.display);
      const revoked = [await people.revokeDisplay(wall.display.id, NOW + 5), await people.revokeDisplay(wall.display.id, NOW + 6), await people.revokeDisplay(9999, NOW)];
      expect(revoked).toEqual([true, false, false]);
      expect(await people.display(wall.secret)).toBeUndefined();
      out.push(revoked, await people.displays());
      return out;
    });
  });

  it('audit: record, recent, and every filter paged through `next`', async () => {
    const actors = ['ann', 'bob', 'system'];
    const actions = ['sign-in', 'token.create', 'user.disable', 'contact.create'];
    await bothSay(async ({ audit }) => {
      const details: unknown[] = [null, 'plain text', 42, { user: 3, queues: ['rents'], nested: { deep: [1, { x: 'é' }] } }];
      for (let i = 0; i < 37; i++) await audit.record(NOW + Math.floor(i / 3) * 1000, actors[i % 3]!, actions[i % 4]!, details[i % 4]);
      const out: unknown[] = [await audit.recent(), await audit.recent(5)];
      expect((out[0] as AuditEntry[]).map((e) => e.id)).toEqual(Array.from({ length: 37 }, (_, i) => 37 - i));
      expect((out[1] as AuditEntry[])[0]).toEqual({ id: 37, at: NOW + 12_000, actor: 'ann', action: 'sign-in', detail: null });
      expect((out[0] as AuditEntry[])[1]!.detail).toEqual({ user: 3, queues: ['rents'], nested: { deep: [1, { x: 'é' }] } });

      const queries: AuditQuery[] = [
        {},
        { limit: 7 },
        { actor: 'ann', limit: 4 },
        { action: 'token.create', limit: 3 },
        { actor: 'bob', action: 'sign-in', limit: 2 },
        { from: NOW + 3000, to: NOW + 8000, limit: 5 },
        { actor: 'system', from: NOW + 2000, limit: 2 },
        { before: 20, limit: 6 },
        { limit: 0 }, // at least one a page
        { limit: 10_000 }, // at most 500
        { actor: 'nobody' },
      ];
      for (const q of queries) {
        const pages: Array<{ items: AuditEntry[]; next: number | null }> = [];
        let before = q.before;
        for (;;) {
          const page = await audit.page({ ...q, before });
          pages.push(page);
          if (page.next === null || pages.length > 40) break;
          before = page.next;
        }
        // Followed through `next`, the pages are every matching entry once, newest first.
        const all = (await audit.recent(100)).filter(
          (e) => (q.actor === undefined || e.actor === q.actor) && (q.action === undefined || e.action === q.action) && (q.from === undefined || e.at >= q.from) && (q.to === undefined || e.at < q.to) && (q.before === undefined || e.id < q.before),
        );
        expect(pages.flatMap((p) => p.items)).toEqual(all);
        const size = Math.min(Math.max(q.limit ?? 50, 1), 500);
        expect(pages.every((p, i) => (i < pages.length - 1 ? p.items.length === size && p.next === p.items.at(-1)!.id : p.next === null))).toBe(true);
        out.push(q, pages);
      }
      return out;
    });
  });
});

describe('PostgreSQL: two instances at once', () => {
  const a = () => new PgPeopleStore(pgA.pool);
  const b = () => new PgPeopleStore(pgB.pool);

  it('twenty failed sign-ins at once on two pools all count; at a limit of five, four lock', async () => {
    const [one, other] = [a(), b()];
    const u = await one.create({ email: 'many@example.org', name: 'Many', role: 'advisor', passwordHash: 'h' }, NOW);
    const locks = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? one : other).recordFailure(u.id, 100, MINUTE, NOW)));
    expect(locks.every((x) => x === false)).toBe(true);
    expect((await other.byId(u.id))!.failedSignins).toBe(20);

    const v = await other.create({ email: 'five@example.org', name: 'Five', role: 'advisor', passwordHash: 'h' }, NOW);
    const fives = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? one : other).recordFailure(v.id, 5, MINUTE, NOW)));
    expect(fives.filter(Boolean)).toHaveLength(4);
    expect(await one.byId(v.id)).toMatchObject({ failedSignins: 0, lockedUntil: NOW + MINUTE });
  });

  it('one email created by both instances at once: one user, the other gets the store’s PeopleError', async () => {
    for (let round = 0; round < 5; round++) {
      const email = `race${round}@example.org`;
      const results = await Promise.allSettled([a(), b()].map((s, i) => s.create({ email, name: `Racer ${i}`, role: 'advisor', passwordHash: 'h' }, NOW)));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toBeInstanceOf(PeopleError);
      expect((lost[0]!.reason as Error).message).toBe(`a user ${email} already exists`);
      expect((await pgA.pool.query('SELECT count(*) AS n FROM users WHERE email = $1', [email])).rows[0]).toEqual({ n: 1 });
    }
  });

  it('one token name created by both at once: one token; a revocation on one instance stops the other within RECHECK_MS', async () => {
    const [ta, tb] = [new PgTokenStore(pgA.pool), new PgTokenStore(pgB.pool)];
    const results = await Promise.allSettled([ta.create('shared', NOW), tb.create('shared', NOW)]);
    const won = results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect((lost[0]!.reason as Error).message).toBe('a token named "shared" already exists (revoke it first)');

    const token = won[0]!.value;
    expect(await ta.verify(token)).toBe('shared');
    expect(await ta.verify(token)).toBe('shared'); // from memory now
    expect(await tb.revoke('shared', NOW + 1)).toBe(true);
    await new Promise((r) => setTimeout(r, RECHECK_MS + 50));
    expect(await ta.verify(token)).toBeUndefined();
  });

  it('no secret stored in clear: tokens, sessions and displays by their SHA-256 only, on both databases', async () => {
    for (const side of ['sqlite', 'postgresql'] as const) {
      const { tokens, people } = sides[side];
      const token = await tokens.create(`clear-${side}`, NOW);
      const u = await people.create({ email: `clear-${side}@example.org`, name: 'Clear', role: 'advisor', passwordHash: 'h' }, NOW);
      const session = await people.startSession(u.id, LIFETIMES, NOW);
      const { secret } = await people.createDisplay('Clear', 'ann', NOW);
      const checks: Array<[string, string, string]> = [
        ['api_tokens', 'token_hash', token],
        ['sessions', 'id_hash', session],
        ['displays', 'secret_hash', secret],
      ];
      expect(hashToken(token)).toBe(sha256(token)); // one hash for every secret
      for (const [table, column, clear] of checks) {
        const count = async (value: string) =>
          side === 'sqlite'
            ? (sqlite.sqlite.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`).get(value) as { n: number }).n
            : ((await pgA.pool.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${column} = $1`, [value])).rows[0]!.n);
        expect(await count(sha256(clear))).toBe(1);
        expect(await count(clear)).toBe(0);
      }
    }
  });
});

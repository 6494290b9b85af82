// Real instances' clock duty as child processes (tests/fixtures/cluster-member.mts), shared by
// tests/integration/pg-lease.test.ts, scripts/bench/leader.ts and scripts/bench/breaches.ts: the
// database set-up they run on, the running clocks, starting a member, reading its JSON lines,
// waiting for one.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { MsCounts } from './histogram.js';

const root = join(import.meta.dirname, '..', '..');
export const MEMBER_SCRIPT = join(root, 'tests', 'fixtures', 'cluster-member.mts');

/**
 * The lease and slot tables (server/cluster/lease.sql), and a `clocks` table with the columns the
 * timers' transitions touch (the same names and types as Kept's PostgreSQL clocks), and a trigger
 * that records every update of a clock's status with the connection's application_name (the
 * member's name) and the database's clock: no unique key on that record, so a transition stored
 * twice would show as two rows.
 */
export const CLUSTER_TEST_SQL = `
${readFileSync(join(root, 'server', 'cluster', 'lease.sql'), 'utf8')}
CREATE TABLE clocks (
  contact_id text NOT NULL,
  standard text NOT NULL,
  status text NOT NULL,
  open boolean NOT NULL DEFAULT true,
  due_at bigint,
  at_risk_at bigint,
  status_changed_at bigint,
  detail text NOT NULL DEFAULT '{}',
  updated_at bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (contact_id, standard)
);
CREATE TABLE stored_transitions (
  id bigserial PRIMARY KEY,
  key text NOT NULL,
  status text NOT NULL,
  at bigint,
  by text NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION record_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stored_transitions (key, status, at, by)
  VALUES (NEW.contact_id || '/' || NEW.standard, NEW.status, NEW.status_changed_at, current_setting('application_name'));
  RETURN NEW;
END $$;
CREATE TRIGGER clocks_record_transition AFTER UPDATE ON clocks FOR EACH ROW EXECUTE FUNCTION record_transition();
`;

/**
 * `count` running email-reply clocks, contacts 'b-000000' on: the i-th due at from + ⌊i·everyMs⌋ (a
 * fraction of a ms spreads several over one), at risk `atRiskMs` before it (null: no at-risk instant,
 * a breach only). Then ANALYZE, so the planner knows the table as it knows a live one.
 */
export async function insertRunningClocks(db: pg.Client | pg.Pool, o: { count: number; from: number; everyMs: number; atRiskMs: number | null }): Promise<void> {
  await db.query(
    `INSERT INTO clocks (contact_id, standard, status, due_at, at_risk_at, detail)
     SELECT 'b-' || lpad(i::text, 6, '0'), 'email-reply', 'running', due, due - $4::bigint, '{"status":"running"}'
       FROM generate_series(0, $3::int - 1) AS i, LATERAL (SELECT $1::bigint + floor(i * $2::float8)::bigint AS due) AS d`,
    [o.from, o.everyMs, o.count, o.atRiskMs],
  );
  await db.query('ANALYZE clocks');
}

export interface MemberLine {
  t: number;
  ev: string;
  member: string;
  token?: number;
  reason?: string;
  n?: number;
  [k: string]: unknown;
}

/** What a member printed at its stop (the `summary` line): clocks fired, fired late and store times as ms counts. */
export interface MemberSummary {
  fired: number;
  late: MsCounts;
  store: MsCounts;
}

export interface MemberOptions {
  url: string;
  name: string;
  leaseMs?: number;
  renewMs?: number;
  watchdog?: boolean;
}

export class Member {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly lines: MemberLine[] = [];
  readonly exited: Promise<void>;
  #stderr = '';
  #waiters = new Set<() => void>();

  constructor(o: MemberOptions) {
    this.name = o.name;
    this.proc = spawn(process.execPath, ['--import', 'tsx', MEMBER_SCRIPT], {
      cwd: root,
      env: {
        ...process.env,
        KEPT_DATABASE_URL: o.url,
        MEMBER: o.name,
        LEASE_MS: o.leaseMs === undefined ? '' : String(o.leaseMs),
        RENEW_MS: o.renewMs === undefined ? '' : String(o.renewMs),
        WATCHDOG: o.watchdog === false ? '0' : '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l) as MemberLine);
      } catch {
        this.#stderr += `${l}\n`;
      }
      for (const w of this.#waiters) w();
    });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-4000);
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    this.exited.then(() => {
      for (const w of this.#waiters) w();
    });
  }

  /** The last 4,000 characters it wrote to stderr, and any stdout line that was not JSON. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Its `summary` line, once it stopped (undefined before, or if it was killed). */
  summary(): MemberSummary | undefined {
    const l = this.lines.find((x) => x.ev === 'summary');
    return l === undefined ? undefined : { fired: Number(l.fired), late: l.late as MsCounts, store: l.store as MsCounts };
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The first line (from index `from`) that matches; rejects after `ms` or when the process exits. */
  waitFor(match: (l: MemberLine) => boolean, ms: number, from = 0): Promise<MemberLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.slice(from).find(match);
        if (found !== undefined) return done(() => resolve(found));
        if (!this.alive) done(() => reject(new Error(`${this.name} exited before the line came; stderr: ${this.#stderr}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name}: no such line within ${ms} ms; lines: ${JSON.stringify(this.lines.slice(-8))}; stderr: ${this.#stderr}`))), ms);
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        f();
      };
      this.#waiters.add(check);
      check();
    });
  }

  signal(s: NodeJS.Signals): void {
    this.proc.kill(s);
  }

  /** SIGTERM (a clean stop: the lease released), SIGKILL if it does not exit within 5 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGCONT');
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }
}

/** Which members lead now, by the lease row and the database's clock. */
export async function currentHolder(db: pg.Client | pg.Pool): Promise<{ holder: string; token: number } | null> {
  const r = await db.query<{ holder: string; token: string }>("SELECT holder, token::text FROM leases WHERE name = 'clocks' AND expires_at > clock_timestamp()");
  const row = r.rows[0];
  return row === undefined ? null : { holder: row.holder, token: Number(row.token) };
}

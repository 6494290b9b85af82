-- Leadership and scheduled jobs across instances on PostgreSQL (issue 14, items 4 and 5).
-- Kept's database gets these tables from its migrations (db/pg/migrations/0001_cluster.sql, from
-- db/pg/schema.ts); this file is the same DDL for the cluster tests' and bench's bare databases
-- (scripts/lib/cluster.ts). Idempotent: every statement may run again on a database that has them.

-- One row per lease name (e.g. 'clocks': who stores the timers' transitions). `expires_at` is set
-- from the database's clock by the holder's renewal, never from an instance's clock; `token` grows
-- by one at every new term (another holder, or the same holder after its lease lapsed), so a write
-- fenced with an old token is refused even if its instance still believes it leads.
CREATE TABLE IF NOT EXISTS leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  token bigint NOT NULL,
  expires_at timestamptz NOT NULL,
  -- When the current term began (the hand-over figures, and an operator's question "since when?").
  acquired_at timestamptz NOT NULL
);

-- One row per run of a scheduled job that an instance claimed (job, slot = the run's due instant in
-- ISO 8601 UTC): the primary key decides which of N instances runs it. The twin of the SQLite table
-- `job_slots` (db/schema.ts, migration 0012): epoch-ms instants as bigint, as every Kept instant.
CREATE TABLE IF NOT EXISTS job_slots (
  job text NOT NULL,
  slot text NOT NULL,
  instance text NOT NULL,
  claimed_at bigint NOT NULL,
  PRIMARY KEY (job, slot)
);

-- The change feed every Kept instance follows (issue 14, item 3). Plain SQL for PostgreSQL 13 or
-- later (xid8, pg_current_xact_id, pg_snapshot_xmin). Kept's database gets these tables from its
-- migrations (db/pg/migrations/0002_feed.sql, from db/pg/schema.ts); this file is the same DDL for
-- the feed tests' and bench's bare databases.
-- How it is read and why it is safe: server/cluster/feed.ts and docs/scale-out.md.

-- One row per change, written in the same transaction as the data it describes. `xid` is the
-- writing transaction's id (64 bits with its epoch, so it never wraps): followers read behind a
-- bound on it that no transaction still in flight can fall below. `id` orders the rows of one
-- transaction as they were written. The key (xid, id) is the order every follower delivers in and
-- the one index: the reads walk it, the prune deletes from its low end.
CREATE TABLE IF NOT EXISTS feed (
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  id bigint GENERATED ALWAYS AS IDENTITY,
  kind text NOT NULL CHECK (kind IN ('contact', 'calendar', 'token-revoked', 'statuses')),
  payload jsonb NOT NULL,
  -- When the row was written (not when it committed): the follower's lag is measured from it.
  written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (xid, id)
);

-- Each following instance's position, written every prune period: rows below every live
-- reader's watermark have been read by all and can go.
CREATE TABLE IF NOT EXISTS feed_readers (
  reader text PRIMARY KEY,
  watermark xid8 NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The highest key the prune has deleted. A follower whose position is below it has missed rows
-- (it was away longer than the retention) and must reload its state instead of replaying.
CREATE TABLE IF NOT EXISTS feed_horizon (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  pruned_xid xid8 NOT NULL DEFAULT '0',
  pruned_id bigint NOT NULL DEFAULT 0
);
INSERT INTO feed_horizon DEFAULT VALUES ON CONFLICT DO NOTHING;

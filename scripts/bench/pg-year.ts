// A year's shape for PostgreSQL's list plans, without a year's writes (issue 14): 200,000 contacts two
// and a half minutes apart up to `now`, two clocks each (10% open, most of those breached: a backlog;
// a few met-extended, a seventh missed, the rest met), an event each, an advisor on a third, two phone
// queues. Written by SQL in a few seconds, then ANALYZE: what the planner needs to choose as it would
// at scale (tests/integration/store-contract.test.ts, scripts/bench/pg-plans.ts). Not for figures of
// the engine: the clocks' detail is empty.
import type pg from 'pg';

export const PG_YEAR_CONTACTS = 200_000;

export async function fillPgYear(pool: pg.Pool, now: number): Promise<void> {
  await pool.query(`
    INSERT INTO contacts (id, channel, route, category, initial_category, received_at, pack_family, assignee, callback, content_hash, queue, created_at, updated_at)
    SELECT id, channel, 'customer-services', category, category, received_at, 'livewest',
           CASE WHEN i % 3 = 0 THEN 'advisor-' || lpad((i % 40 + 1)::text, 2, '0') END, false, 'h',
           CASE WHEN channel IN ('phone', 'voicemail') THEN (CASE WHEN i % 10 = 0 THEN 'rents' ELSE 'customer-services' END) END,
           received_at, received_at
    FROM (SELECT i, lpad(to_hex(i), 8, '0') || '-0000-7000-8000-000000000000' AS id,
                 (ARRAY['phone', 'email', 'webform', 'social', 'voicemail'])[i % 5 + 1] AS channel,
                 (ARRAY['general', 'repair', 'complaint', 'general', 'emergency-repair', 'asb', 'general'])[i % 7 + 1] AS category,
                 $1::bigint - ($2::int - i)::bigint * 150000 AS received_at
          FROM generate_series(1, $2::int) AS i) g`, [now, PG_YEAR_CONTACTS]);
  await pool.query(`
    INSERT INTO clocks (contact_id, standard, received_at, standard_version, calendar, status, open, started_at, due_at, at_risk_at, fulfilled_at, ended_at, target_ms, counted_ms, detail, updated_at, ordinal)
    SELECT c.id, s.standard, c.received_at, '1', 'customer-services', st.status, st.status IN ('running', 'at-risk', 'breached', 'paused'),
           c.received_at, c.received_at + 86400000, c.received_at + 72000000, NULL,
           CASE WHEN st.status IN ('running', 'at-risk', 'breached', 'paused') THEN NULL ELSE c.received_at + 3600000 END,
           86400000, 0, '{}', c.received_at, s.ordinal
    FROM contacts c CROSS JOIN (VALUES ('first-response', 0), ('resolve', 1)) AS s(standard, ordinal)
    CROSS JOIN LATERAL (SELECT CASE
      WHEN ('x' || substr(c.id, 1, 8))::bit(32)::int % 10 = 0 THEN (CASE WHEN c.received_at + 86400000 < $1 THEN 'breached' ELSE 'running' END)
      WHEN ('x' || substr(c.id, 1, 8))::bit(32)::int % 997 = 1 THEN 'met-extended'
      WHEN ('x' || substr(c.id, 1, 8))::bit(32)::int % 7 = 1 THEN 'missed'
      ELSE 'met' END AS status) st`, [now]);
  await pool.query(`INSERT INTO events (contact_id, seq, type, at, body, received_at) SELECT id, 0, 'answered', received_at + 60000, '{}', received_at FROM contacts`);
  await pool.query('VACUUM ANALYZE');
}

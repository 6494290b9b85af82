#!/bin/sh
# Kept's role and database on the compose file's PostgreSQL (docs/scale-out.md, "PostgreSQL settings"
# and "Containers"). The postgres image runs this once, when its data volume is first initialised, as
# the superuser over the local socket; a volume that already holds a cluster never runs it again.
#
# Kept gets its own role, not the superuser: it owns its database (it migrates it on open, which
# needs CREATE on the public schema, granted to the owner on PostgreSQL 15) and nothing else.
# The password comes from the environment (PG_KEPT_PASSWORD, compose.yaml's .env) and reaches psql as
# a variable quoted by psql itself (:'password'), never spliced into the SQL by the shell.
# The role and the database are both `kept`, as compose.yaml's KEPT_DATABASE_URL says; PG_KEPT_ROLE
# and PG_KEPT_DATABASE are there for tests/integration/compose.test.ts, which runs this file against
# the machine's PostgreSQL under names of its own (roles are shared by every database of a server).
set -eu
role="${PG_KEPT_ROLE:-kept}"
database="${PG_KEPT_DATABASE:-kept}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v role="$role" -v database="$database" -v password="${PG_KEPT_PASSWORD:?PG_KEPT_PASSWORD: the password of the kept role}" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role";
-- The feed sees, and steps over, open transactions in the server's other databases.
GRANT pg_read_all_stats TO :"role";
-- Any session in Kept's database idle inside a transaction holds every instance's feed back: end it after 30 s.
ALTER DATABASE :"database" SET idle_in_transaction_session_timeout = '30s';
SQL

// The container deployment (compose.yaml, Dockerfile, deploy/haproxy-compose.cfg,
// deploy/postgres-init/10-kept.sh; docs/scale-out.md "Containers"), checked without a Docker daemon:
// docker-compose v1 (`apt-get install docker-compose`; .ci/run installs it) validates and resolves the
// file; the resolved services are PostgreSQL, two Kept instances pointing at it and HAProxy publishing
// the one port; every KEPT_* setting given is one Kept knows; secrets come only from the environment.
// The HAProxy file passes `haproxy -c` offline and is deploy/haproxy.cfg line for line but for where
// the instances are. The database init script runs on the machine's real PostgreSQL, and Kept's
// migrations then run as the role it made (not a superuser).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../db/pg/connection.js';
import { EnvSchema } from '../../server/config.js';
import { freshPgDatabase } from '../helpers/instances.js';
import { PG_ADMIN_URL } from '../helpers/pg.js';

const root = join(import.meta.dirname, '..', '..');
const COMPOSE = join(root, 'compose.yaml');
const ENV_EXAMPLE = join(root, 'deploy', 'compose.env.example');
const SHIPPED_CFG = join(root, 'deploy', 'haproxy.cfg');
const COMPOSE_CFG = join(root, 'deploy', 'haproxy-compose.cfg');
const INIT_SCRIPT = join(root, 'deploy', 'postgres-init', '10-kept.sh');
const HAPROXY = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
const HAVE_COMPOSE = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const HAVE_HAPROXY = spawnSync(HAPROXY, ['-v']).status === 0;
if (!HAVE_COMPOSE) console.warn('compose.test.ts: the compose checks skipped: docker-compose is not installed (apt-get install docker-compose; .ci/run installs it)');
if (!HAVE_HAPROXY) console.warn('compose.test.ts: the haproxy -c check skipped: haproxy is not installed');

/** Stand-ins for the secrets a real .env holds. */
const SECRETS = { POSTGRES_PASSWORD: 'dummy-superuser-password', PG_KEPT_PASSWORD: 'dummy0kept0password', KEPT_PUBLIC_URL: 'https://kept.example.org' };

/** The runner's environment without anything compose.yaml interpolates, so only what a test gives counts. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [...Object.keys(SECRETS), 'LB_PORT', 'KEPT_PACK', 'KEPT_LOG_LEVEL']) delete env[name];
  return { ...env, ...extra };
}

/** `docker-compose config` with the example env file (never a developer's own .env) and `extra` on top. */
function compose(args: string[], extra: Record<string, string>) {
  return spawnSync('docker-compose', ['-f', COMPOSE, '--env-file', ENV_EXAMPLE, 'config', ...args], { cwd: root, env: cleanEnv(extra), encoding: 'utf8' });
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string>;
  ports?: Array<{ published: number | string; target: number }>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

/** The resolved file, as docker-compose prints it (YAML), read with the YAML parser docker-compose itself brings (PyYAML). */
function resolved(extra: Record<string, string>): { services: Record<string, Service>; volumes: Record<string, unknown> } {
  const r = compose([], extra);
  expect(r.status, r.stderr).toBe(0);
  const json = spawnSync('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: r.stdout, encoding: 'utf8' });
  expect(json.status, json.stderr).toBe(0);
  return JSON.parse(json.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
}

/** An HAProxy file as its sections' directives, comments and blank lines left out. */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\s*#.*$/, '').trimEnd();
    if (line.trim() === '') continue;
    if (/^\S/.test(line)) out.set((current = line.trim()), []);
    else out.get(current)!.push(line.trim());
  }
  return out;
}

function seconds(value: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(value);
  if (m === null) throw new Error(`not an HAProxy time: ${value}`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 }[m[2] ?? 'ms'] ?? 0.001);
}

describe.skipIf(!HAVE_COMPOSE)('compose.yaml, checked by docker-compose without a daemon', () => {
  it('is valid with the secrets given, and names each missing secret otherwise', () => {
    const valid = compose(['-q'], SECRETS);
    expect(valid.status, valid.stderr).toBe(0);
    // The example env file alone leaves both passwords empty: compose refuses, naming one and where to set it.
    const example = compose(['-q'], {});
    expect(example.status).not.toBe(0);
    expect(example.stderr).toMatch(/set (POSTGRES_PASSWORD|PG_KEPT_PASSWORD) in \.env/);
    for (const name of Object.keys(SECRETS)) {
      const refused = compose(['-q'], { ...SECRETS, [name]: '' });
      expect(refused.status, `${name} empty`).not.toBe(0);
      expect(refused.stderr).toContain(`set ${name} in .env`);
    }
  });

  it('has PostgreSQL, two Kept instances pointing at it and HAProxy publishing the one port', () => {
    const { services, volumes } = resolved({ ...SECRETS, LB_PORT: '18080' });
    expect(Object.keys(services).sort()).toEqual(['kept-1', 'kept-2', 'lb', 'postgres']);

    const db = services.postgres!;
    expect(db.image).toBe('postgres:15');
    expect(db.environment?.POSTGRES_PASSWORD).toBe(SECRETS.POSTGRES_PASSWORD);
    expect(db.volumes).toContain('pgdata:/var/lib/postgresql/data:rw');
    expect(db.volumes).toContain(`${join(root, 'deploy', 'postgres-init')}:/docker-entrypoint-initdb.d:ro`);
    expect(db.healthcheck?.test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(Object.keys(volumes)).toEqual(['pgdata']);

    const known = new Set(Object.keys(EnvSchema.properties));
    for (const name of ['kept-1', 'kept-2']) {
      const kept = services[name]!;
      expect(kept.build?.context, name).toBe(root);
      expect(kept.depends_on?.postgres?.condition, name).toBe('service_healthy');
      const env = kept.environment!;
      const url = new URL(env.KEPT_DATABASE_URL!);
      expect([url.protocol, url.hostname, url.port, url.pathname, url.username, url.password], name).toEqual(['postgres:', 'postgres', '5432', '/kept', 'kept', SECRETS.PG_KEPT_PASSWORD]);
      expect(env.HOST, name).toBe('0.0.0.0');
      expect(env.KEPT_TRUST_PROXY, name).toBe('true');
      expect(env.KEPT_PUBLIC_URL, name).toBe(SECRETS.KEPT_PUBLIC_URL);
      // Kept refuses an unknown KEPT_* name at start: every name given must be one of its settings.
      const unknown = Object.keys(env).filter((k) => !known.has(k) && k !== 'KEPT_DATABASE_URL');
      expect(unknown, name).toEqual([]);
      expect(kept.healthcheck?.test.join(' '), name).toContain('/api/v1/health');
      // Reachable only through HAProxy.
      expect(kept.ports, name).toBeUndefined();
    }
    expect(services['kept-1']!.environment).toEqual(services['kept-2']!.environment);
    expect(db.ports).toBeUndefined();

    const lb = services.lb!;
    expect(lb.image).toBe('haproxy:2.6');
    expect(lb.ports).toEqual([{ published: 18080, target: 8080 }]);
    expect(lb.volumes).toEqual([`${COMPOSE_CFG}:/usr/local/etc/haproxy/haproxy.cfg:ro`]);
    expect(Object.keys(lb.depends_on ?? {}).sort()).toEqual(['kept-1', 'kept-2']);
  });

  it('holds no secret itself: every password is interpolated from the environment', () => {
    const text = readFileSync(COMPOSE, 'utf8');
    // A key ending in PASSWORD has a ${NAME:?…} value; a URL's password is one too.
    const literal = text.split('\n').filter((l) => /^\s*[A-Z_]*PASSWORD\s*:/.test(l) && !/PASSWORD\s*:\s*\$\{[A-Z_]+:\?/.test(l));
    expect(literal).toEqual([]);
    expect(text).not.toMatch(/:\/\/[^:\s/]+:(?!\$\{)[^@\s]+@/);
    expect(text).toMatch(/postgres:\/\/kept:\$\{PG_KEPT_PASSWORD:\?[^}]+\}@postgres:5432\/kept/);
    // Nor does the image: the build context leaves .env out.
    expect(readFileSync(join(root, '.dockerignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['.env', 'node_modules', 'data']));
  });
});

describe('the HAProxy file for compose (deploy/haproxy-compose.cfg)', () => {
  it.skipIf(!HAVE_HAPROXY)('passes `haproxy -c` with nothing resolvable and no LB_* variable', () => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('LB_')) delete env[k];
    const r = spawnSync(HAPROXY, ['-c', '-f', COMPOSE_CFG], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Configuration file is valid');
  });

  it('is deploy/haproxy.cfg but for where the instances are: the compose services, found through Docker DNS', () => {
    const shipped = sections(readFileSync(SHIPPED_CFG, 'utf8'));
    const ours = sections(readFileSync(COMPOSE_CFG, 'utf8'));
    const apart = (line: string) => /^(bind|server) /.test(line);
    expect([...ours.keys()].filter((s) => s !== 'resolvers docker')).toEqual([...shipped.keys()]);
    for (const [name, lines] of shipped) expect(ours.get(name)!.filter((l) => !apart(l)), name).toEqual(lines.filter((l) => !apart(l)));

    const backend = ours.get('backend kept')!;
    const servers = backend.filter((l) => l.startsWith('server ')).map((l) => l.split(/\s+/));
    // Each server a Kept service of compose.yaml on the port it listens on, asked of Docker's DNS.
    const text = readFileSync(COMPOSE, 'utf8');
    for (const s of servers) {
      const [host, port] = s[2]!.split(':');
      expect(text, `${host} is a service of compose.yaml`).toMatch(new RegExp(`^  ${host}:$`, 'm'));
      expect(port).toBe('3000');
      expect(s.slice(3).join(' ')).toBe('resolvers docker init-addr none');
    }
    expect(servers.map((s) => s[2])).toEqual(['kept-1:3000', 'kept-2:3000']);
    expect(ours.get('frontend kept')).toContain('bind :8080');
    expect(ours.get('resolvers docker')).toContain('parse-resolv-conf');
    // The board's socket: once upgraded only the tunnel timeout applies, and it must outlast Kept's 15 s heartbeat.
    const tunnel = ours.get('defaults')!.find((l) => l.startsWith('timeout tunnel '))!;
    expect(seconds(tunnel.split(/\s+/)[2]!)).toBeGreaterThan(15);
  });
});

describe('the Dockerfile', () => {
  it('runs what `npm start` runs, as a user other than root, on Node 20', () => {
    const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    const built = start.split(' && ');
    // npm start = the two builds, then the compiled server: the image builds both and runs the same file.
    expect(text).toContain(`RUN ${built.slice(0, -1).join(' && ')}`);
    const cmd = /^CMD (\[.*\])$/m.exec(text);
    expect(JSON.parse(cmd![1]!).join(' ')).toBe(built.at(-1));
    expect(text.match(/^FROM \S+/gm)).toEqual(['FROM node:20-bookworm-slim', 'FROM node:20-bookworm-slim']);
    const users = text.match(/^USER \S+$/gm);
    expect(users).toEqual(['USER node']);
  });

  it("is given every input of the build: .dockerignore leaves out none of them", () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    // npm ci (the package files), vite build (web/, its config), build:server (its script, the tsconfigs, server/, db/).
    const inputs = ['package.json', 'package-lock.json', 'web', 'vite.config.ts', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'server', 'db'];
    for (const input of inputs) expect(existsSync(join(root, input)), input).toBe(true);
    const matches = (pattern: string, path: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`).test(path);
    expect(inputs.filter((input) => ignored.some((p) => matches(p, input)))).toEqual([]);
  });
});

describe('the database init script (deploy/postgres-init/10-kept.sh) on a real PostgreSQL', () => {
  it('makes a role that is not a superuser, owns its database and migrates it; the feed settings are in place', async () => {
    // The script makes a role (shared by every database of the server) and a database: names of this test's own.
    const names = await freshPgDatabase('kept_init');
    await names.drop();
    const role = names.name;
    const admin = new URL(PG_ADMIN_URL);
    const r = spawnSync('sh', [INIT_SCRIPT], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PGHOST: admin.hostname,
        PGPORT: admin.port || '5432',
        POSTGRES_USER: decodeURIComponent(admin.username) || 'postgres',
        PG_KEPT_ROLE: role,
        PG_KEPT_DATABASE: role,
        // psql quotes it: a quote in a password cannot end the string.
        PG_KEPT_PASSWORD: "it's; DROP ROLE postgres; --",
      },
    });
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      expect(r.status, r.stderr).toBe(0);
      const facts = await client.query<{ rolsuper: boolean; owner: string; settings: string[]; stats: boolean; password: boolean }>(
        `SELECT r.rolsuper, pg_get_userbyid(d.datdba) AS owner,
                (SELECT setconfig FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0) AS settings,
                pg_has_role(r.oid, 'pg_read_all_stats', 'member') AS stats,
                (SELECT rolpassword IS NOT NULL FROM pg_authid WHERE oid = r.oid) AS password
           FROM pg_roles r, pg_database d WHERE r.rolname = $1 AND d.datname = $1`,
        [role],
      );
      expect(facts.rows).toEqual([{ rolsuper: false, owner: role, settings: ['idle_in_transaction_session_timeout=30s'], stats: true, password: true }]);
      // Kept migrates on open, as the role compose.yaml connects with.
      const url = new URL(PG_ADMIN_URL);
      url.username = role;
      url.pathname = `/${role}`;
      const kept = await openPostgres(url.toString(), { max: 1 });
      try {
        const tables = await kept.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1`, [role]);
        expect(tables.rows[0]!.n).toBeGreaterThan(10);
      } finally {
        await kept.close();
      }
    } finally {
      await client.query(`DROP DATABASE IF EXISTS ${role} WITH (FORCE)`);
      await client.query(`DROP ROLE IF EXISTS ${role}`);
      await client.end();
    }
  });
});

// `sla user …` end to end, as real child processes against a database file, then a sign-in over HTTP
// with the one-time password printed as the last line of standard output.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { loadConfig } from '../../server/config.js';
import { buildApp } from '../../server/http/app.js';
import { IngestService } from '../../server/ingest/service.js';
import { recordSecret } from '../helpers/app.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'kept-cli-user-'));
const db = join(dir, 'kept.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sla(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'server', 'cli.ts'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, KEPT_DB: db } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, last: r.stdout.trimEnd().split('\n').at(-1) ?? '' };
}

async function signIn(email: string, password: string): Promise<number> {
  const config = loadConfig({ KEPT_DB: db, KEPT_WEB_ROOT: join(dir, 'none') });
  const connection = openDatabase(db);
  const service = new IngestService(connection, { packFamily: config.packFamily });
  const app = await buildApp({ config, service });
  try {
    const r = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password } });
    for (const c of r.cookies) recordSecret(c.value);
    return r.statusCode;
  } finally {
    await app.close();
    await service.close();
    connection.close();
  }
}

describe('sla user', () => {
  it('create prints a one-time password as the last line; list, reset and disable work; bad input exits 2', async () => {
    const created = sla('user', 'create', 'Ann.Advisor@Example.org', '--role', 'advisor', '--name', 'Ann Advisor', '--queues', 'customer-services,repairs');
    expect(created.status, created.stderr).toBe(0);
    const password = created.last;
    recordSecret(password);
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(created.stderr).not.toContain(password);
    expect(sla('user', 'list').stdout).toBe('ann.advisor@example.org\tadvisor\tAnn Advisor\tcustomer-services,repairs\tone-time password\n');
    expect(await signIn('ann.advisor@example.org', password)).toBe(200);

    const reset = sla('user', 'reset', 'ann.advisor@example.org');
    expect(reset.status).toBe(0);
    recordSecret(reset.last);
    expect(reset.last).not.toBe(password);
    expect(await signIn('ann.advisor@example.org', password)).toBe(401);
    expect(await signIn('ann.advisor@example.org', reset.last)).toBe(200);

    expect(sla('user', 'disable', 'ann.advisor@example.org').status).toBe(0);
    expect(sla('user', 'list').stdout).toMatch(/\tdisabled\n$/);
    expect(await signIn('ann.advisor@example.org', reset.last)).toBe(401);

    expect(sla('user', 'create', 'ann.advisor@example.org', '--role', 'advisor', '--name', 'Again').status).toBe(2);
    expect(sla('user', 'create', 'x@example.org', '--role', 'boss', '--name', 'X').stderr).toMatch(/role "boss": one of advisor, team-lead, manager, admin/);
    expect(sla('user', 'create', 'not-an-email', '--role', 'admin', '--name', 'X').status).toBe(2);
    expect(sla('user', 'reset', 'nobody@example.org').status).toBe(2);

    const c = openDatabase(db);
    try {
      const actions = c.sqlite.prepare("SELECT action FROM audit WHERE actor = 'cli' ORDER BY id").pluck().all();
      expect(actions).toEqual(['user.create', 'user.reset', 'user.disable']);
    } finally {
      c.close();
    }
  });
});

// The multi-instance harness (tests/helpers/instances.ts) on real Kept processes, each on a SQLite file
// of its own (the server does not run on PostgreSQL yet): started on their own ports and ready when
// /health answers; a token made by the `sla` command line works on its own instance's database and
// not on the other's; SIGSTOP leaves an instance unanswering and SIGCONT brings it back; SIGKILL ends
// one while the other serves on; stop() ends the rest and removes their files; an instance Kept
// refuses to start fails the start with its own words and leaves no process behind.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, startInstances, StartError, type Instances } from '../helpers/instances.js';

async function health(url: string, token?: string): Promise<{ status: number; body: { status?: string; database?: string } }> {
  const r = await fetch(`${url}/api/v1/health`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) });
  return { status: r.status, body: (await r.json()) as { status?: string; database?: string } };
}

describe('startInstances: two Kept processes, each on its own SQLite file', () => {
  let kept: Instances;
  beforeAll(async () => {
    kept = await startInstances(2, { armed: true });
  }, 120_000);
  afterAll(async () => {
    await kept?.stop();
  });

  it('starts each on its own port, answering /health, each with its own database file', async () => {
    expect(kept.urls).toHaveLength(2);
    expect(new Set(kept.urls).size).toBe(2);
    for (const url of kept.urls) expect(await health(url)).toEqual({ status: 200, body: { status: 'ok' } });
    const [a, b] = kept.instances;
    expect(a!.dbFile).not.toBe(b!.dbFile);
    expect(existsSync(a!.dbFile!)).toBe(true);
    expect(a!.output()).toContain('Kept is listening on');
  });

  it("makes a token with `sla token create` that its own instance accepts and the other's database does not know", async () => {
    const [a, b] = kept.instances;
    const token = createToken('harness', { dbFile: a!.dbFile! });
    expect(token).toMatch(/^\S{20,}$/);
    // A token holder is told which database answered.
    expect(await health(a!.url, token)).toMatchObject({ status: 200, body: { status: 'ok', database: a!.dbFile } });
    const other = await fetch(`${b!.url}/api/v1/contacts?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(other.status).toBe(401);
    const own = await fetch(`${a!.url}/api/v1/contacts?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(own.status).toBe(200);
  }, 90_000);

  it('SIGSTOP leaves an instance silent and SIGCONT brings it back', async () => {
    await kept.kill(0, 'SIGSTOP');
    await expect(health(kept.urls[0]!)).rejects.toThrow(/timeout|aborted/i);
    expect((await health(kept.urls[1]!)).status).toBe(200);
    await kept.kill(0, 'SIGCONT');
    expect((await health(kept.urls[0]!)).status).toBe(200);
  });

  it('SIGKILL ends one instance (the promise settles once it has gone); the other serves on', async () => {
    await kept.kill(1, 'SIGKILL');
    expect(kept.instances[1]!.child.signalCode).toBe('SIGKILL');
    await expect(fetch(`${kept.urls[1]}/api/v1/health`)).rejects.toThrow();
    expect((await health(kept.urls[0]!)).status).toBe(200);
    // Signalling one already gone is nothing.
    await kept.kill(1, 'SIGTERM');
  });

  it('stop() ends the rest with SIGTERM (Kept closes and exits 0) and removes the files; again is nothing', async () => {
    const dir = dirname(kept.instances[0]!.dbFile!);
    await kept.stop();
    expect(kept.instances[0]!.child.exitCode).toBe(0);
    expect(existsSync(dir)).toBe(false);
    await kept.stop();
  });
});

describe('startInstances: an instance Kept refuses to start', () => {
  it('fails with the instance output (the setting named) and leaves no process running', async () => {
    const error = await startInstances(2, { env: (i) => (i === 1 ? { KEPT_PACK: 'no-such-pack' } : {}) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StartError);
    const { message, pids } = error as StartError;
    expect(message).toMatch(/exited \(2\) before it was ready/);
    expect(message).toContain('configuration refused: KEPT_PACK');
    // Both were started; the one Kept accepted was ended with the other: signal 0 finds neither.
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  }, 120_000);
});

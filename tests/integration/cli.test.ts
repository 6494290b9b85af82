// The `sla` command line end to end, as real child processes: `evaluate` (contacts in, lines out) and `holidays import`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { BUNDLED_BANK_HOLIDAYS } from '../../server/domain/defaults.js';
import { makeContactLines } from '../../scripts/bench/calendar-contacts.js';

const root = join(import.meta.dirname, '..', '..');

function sla(args: string[], input: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'server', 'cli.ts'), ...args], { input, cwd: root, encoding: 'utf8' });
  return { status: r.status, lines: r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>), stderr: r.stderr };
}

describe('sla evaluate', () => {
  const input = readFileSync(join(root, 'tests', 'fixtures', 'contacts.jsonl'), 'utf8');

  it('writes one line per input line, in order, and reports bad lines without stopping', () => {
    const r = sla(['evaluate', '--now', '2026-12-24T11:00:00Z', '--closure', '2026-12-24T12:00:00Z/2026-12-24T17:00:00Z'], input);
    expect(r.status).toBe(0);
    expect(r.lines.map((l) => l.id)).toEqual(['row-1', 'row-10', 'no-offset', null, 'row-11', 'unpausable', 'row-17']);
    const byId = (id: string | null, index = 0) => r.lines.filter((l) => l.id === id)[index]!;
    const clocks = (id: string) => byId(id).clocks as Array<Record<string, unknown>>;
    expect(clocks('row-1')[0]).toMatchObject({ standard: 'email-reply', dueAt: '2026-03-03T10:00:00.000Z', status: 'breached' });
    expect(clocks('row-10')[0]).toMatchObject({ standard: 'phone-answer', dueAt: '2026-03-02T17:03:00.000Z', status: 'met' });
    expect(clocks('row-11')[0]).toMatchObject({ status: 'missed', callback: true });
    expect(clocks('row-17')[0]).toMatchObject({ dueAt: '2026-12-29T15:00:00.000Z', status: 'running', countedMs: 3_600_000 });
    expect(byId('no-offset').error).toMatch(/^receivedAt: timestamp without offset/);
    expect(byId(null).error).toMatch(/^line 5: not valid JSON/);
    expect(byId('unpausable').error).toBe('events[0].clock: email-reply cannot be paused: the standard is not pausable');
    expect(r.stderr).toMatch(/7 contacts, 3 errors/);
  });

  it('--division scotland applies Scottish bank holidays (STANDARDS §7 row 16)', () => {
    const r = sla(['evaluate', '--division', 'scotland', '--quiet'], '{"id":"16","channel":"email","receivedAt":"2026-08-03T09:00:00Z"}\n');
    expect((r.lines[0]!.clocks as Array<Record<string, unknown>>)[0]!.dueAt).toBe('2026-08-04T16:00:00.000Z');
  });

  it('--explain adds the steps behind each dueAt', () => {
    const r = sla(['evaluate', '--explain', '--quiet', '--now', '2026-04-01T00:00:00Z'], '{"id":"4","channel":"email","receivedAt":"2026-04-02T14:00:00Z"}\n');
    const clock = (r.lines[0]!.clocks as Array<{ explain: { steps: Array<{ kind: string }>; text: string } }>)[0]!;
    expect(clock.explain.steps.map((s) => s.kind)).toContain('holiday');
    expect(clock.explain.text).toContain('bank holiday (Good Friday)');
  });

  it('rejects bad options with a readable message and exit code 2', () => {
    const r = sla(['evaluate', '--closure', '2026-12-24T12:00:00/2026-12-24T17:00:00Z'], '');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--closure .*without offset/);
    expect(sla(['evaluate', '--division', 'wales'], '').stderr).toMatch(/no division "wales"/);
  });

  it('--threads: worker threads give the same lines in the same order (bad and blank lines, CRLF, no final newline)', () => {
    const lines = makeContactLines(60_000, 42, Date.parse('2026-11-23T00:00:00Z'));
    for (let i = 997; i < lines.length; i += 1_009) lines[i] = i % 2 === 0 ? '{"id":"broken",' : '';
    for (let i = 501; i < lines.length; i += 2_003) lines[i] = `${lines[i]}\r`;
    const input = lines.join('\n'); // no newline after the last line
    const run = (threads: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(root, 'server', 'cli.ts'), 'evaluate', '--now', '2026-11-23T00:00:00Z', '--threads', threads], {
        input,
        cwd: root,
        encoding: 'utf8',
        maxBuffer: 1 << 30,
      });
    const one = run('0');
    const two = run('2');
    expect(one.status).toBe(0);
    expect(two.status).toBe(0);
    const out = one.stdout.split('\n');
    expect(out.length - 1).toBe(lines.filter((l) => l.trim() !== '').length);
    const firstBroken = lines.indexOf('{"id":"broken",') + 1;
    expect(out.find((l) => l.includes('not valid JSON'))).toContain(`"line":${firstBroken},`);
    expect(two.stdout).toBe(one.stdout);
    expect(one.stderr).not.toMatch(/worker threads/);
    expect(two.stderr).toMatch(/done, [\d,]+ contacts, [\d,]+ errors, .* [1-9][\d,]* of [\d,]+ batches on worker threads/);
  });
});

describe('sla holidays import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kept-cli-holidays-'));
  const db = join(dir, 'data', 'kept.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the CLI against the database in `dir`; output is text, not JSON lines. */
  function holidays(args: string[], kept = db) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'server', 'cli.ts'), 'holidays', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, KEPT_DB: kept },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const writeFile = (name: string, doc: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(doc));
    return path;
  };
  const events = (division: string) => BUNDLED_BANK_HOLIDAYS[division]!.events;
  const stored = (division = 'england-and-wales') => {
    const c = openDatabase(db);
    try {
      return (c.sqlite.prepare('SELECT date FROM holidays WHERE division = ? ORDER BY date').all(division) as Array<{ date: string }>).map((r) => r.date);
    } finally {
      c.close();
    }
  };

  it('refuses an impossible date with the field and the rule (exit 2), before opening the database', () => {
    const file = writeFile('bad.json', { 'england-and-wales': { events: [...events('england-and-wales').slice(0, 3), { date: '2026-02-30', title: 'x' }] } });
    const r = holidays(['import', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('sla: england-and-wales.events[3].date: 2026-02-30 is not a real calendar date\n');
    expect(existsSync(db)).toBe(false);
  });

  it('adds holidays without a flag and prints what was added', () => {
    // A far-future holiday: later tests remove it, and it stays "still to come" whenever they run.
    const file = writeFile('more.json', { 'england-and-wales': { events: [...events('england-and-wales'), { date: '2150-01-01', title: 'New Year’s Day' }] } });
    const r = holidays(['import', file]);
    expect(r.stderr).toMatch(/restart it/);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('england-and-wales: 1 added, 0 removed, 0 retitled; 0 clocks moved (0 contacts recomputed; calendars: customer-services)\n  + 2150-01-01  New Year’s Day\n');
    expect(stored()).toContain('2150-01-01');
  });

  it('refuses (exit 2, nothing changed) a file that would remove holidays still to come; --replace allows it', () => {
    const before = stored();
    const file = writeFile('one.json', { 'england-and-wales': { events: [{ date: '2199-12-25', title: 'Christmas Day' }] } });
    const refused = holidays(['import', file]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^sla: england-and-wales: the file would remove \d+ bank holidays? dated \d{4}-\d\d-\d\d or later \(\d{4}-\d\d-\d\d .*\); nothing was changed\. Import with replace .*--replace/);
    expect(refused.stdout).toBe('');
    expect(stored()).toEqual(before);

    const replaced = holidays(['import', file, '--replace']);
    expect(replaced.status).toBe(0);
    expect(replaced.stdout).toMatch(new RegExp(`^england-and-wales: 1 added, ${before.length} removed, 0 retitled; `));
    expect(replaced.stdout).toContain('\n  + 2199-12-25  Christmas Day\n');
    expect(replaced.stdout).toContain('\n  - 2150-01-01  New Year’s Day\n');
    expect(stored()).toEqual(['2199-12-25']);
    const c = openDatabase(db);
    try {
      const audit = c.sqlite.prepare("SELECT actor, detail FROM audit WHERE action = 'holidays.import' ORDER BY id DESC LIMIT 1").get() as { actor: string; detail: string };
      expect(audit.actor).toBe('cli');
      expect(JSON.parse(audit.detail)).toMatchObject({ division: 'england-and-wales', added: 1, removed: before.length, replace: true });
    } finally {
      c.close();
    }
  });

  it('--division takes one division from a file with several', () => {
    const scotland = stored('scotland');
    const file = writeFile('all.json', {
      'england-and-wales': { events: [{ date: '2199-12-25', title: 'Christmas Day' }] },
      scotland: { events: [...events('scotland'), { date: '2150-11-30', title: 'St Andrew’s Day' }] },
    });
    const r = holidays(['import', file, '--division', 'scotland']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^scotland: 1 added, 0 removed, 0 retitled; 0 clocks moved \(0 contacts recomputed; no calendar uses it\)\n {2}\+ 2150-11-30 {2}St Andrew’s Day\n$/);
    expect(stored('scotland')).toEqual([...scotland, '2150-11-30'].sort());
  });

  it('explains usage mistakes with exit code 2, and help lists the command', () => {
    expect(holidays(['import']).stderr).toMatch(/holidays import FILE: which file\?/);
    expect(holidays(['import', join(dir, 'no-such.json')]).stderr).toMatch(/no-such\.json: ENOENT/);
    const wales = holidays(['import', join(dir, 'one.json'), '--division', 'wales']);
    expect(wales.status).toBe(2);
    expect(wales.stderr).toBe('sla: --division "wales": one of england-and-wales, scotland, northern-ireland\n');
    expect(holidays(['export']).status).toBe(2);
    const help = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'server', 'cli.ts'), 'help'], { cwd: root, encoding: 'utf8' });
    expect(help.stdout).toContain('holidays import FILE');
    expect(help.stdout).toContain('--replace');
  });
});

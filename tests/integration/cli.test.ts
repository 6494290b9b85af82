// The `sla evaluate` command end to end: a real child process, a file of contacts in, lines out.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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

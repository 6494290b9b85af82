// The server's side of the writer thread when the thread stops while holding commands: each fails
// with 503 "writer stopped" (never a bare 500, never a silent loss), /health's failure says so, and
// a new thread takes the next commands. A stand-in thread (tests/fixtures/dying-writer.mjs) stops
// on cue; stopping the real one mid-call is not something Kept ever does (see thread.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../server/errors.js';
import { ThreadRunner, writerEntry } from '../../server/writer/thread.js';

const dir = mkdtempSync(join(tmpdir(), 'kept-writer-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the writer thread', () => {
  it('runs from the .mjs shim under TypeScript and from worker.js when compiled', () => {
    expect(writerEntry('file:///app/server/writer/thread.ts').pathname).toBe('/app/server/writer/worker.mjs');
    expect(writerEntry('file:///app/dist/server/writer/thread.js').pathname).toBe('/app/dist/server/writer/worker.js');
  });

  it('a thread that stops while holding commands: they answer 503 "writer stopped"; a new thread takes the next ones', async () => {
    const stopped: string[] = [];
    const runner = new ThreadRunner({
      file: join(dir, 'kept.db'),
      maxEventsPerContact: 10,
      timeoutMs: 1000,
      entry: new URL('../fixtures/dying-writer.mjs', import.meta.url),
      onStopped: (detail) => stopped.push(detail),
    });
    try {
      await runner.ready;
      const held = [runner.run('set-statuses', { now: 0, statuses: [] }), runner.run('set-statuses', { now: 0, statuses: [] })];
      for (const p of held) {
        const e = await p.then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(UnavailableError);
        expect(e).toMatchObject({ status: 503, code: 'writer-stopped', message: expect.stringMatching(/^writer stopped: the writer thread exited \(code 3\)/) });
        expect((e as UnavailableError).retryAfter).toBeGreaterThan(0);
      }
      expect(runner.failure).toMatchObject({ code: 'writer-stopped' });
      expect(stopped).toEqual(['the writer thread exited (code 3)']);
      // The next command goes to a new thread (started again within a second).
      await expect(runner.run('set-statuses', { now: 0, statuses: [] })).resolves.toBeNull();
      expect(runner.failure).toBeNull();
    } finally {
      await runner.close();
    }
  });
});

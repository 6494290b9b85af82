// Vitest global setup: gives the suite one log folder, and at the end greps every log line written
// by every test app for every secret the suite used (tokens, app secrets, passwords). One hit fails the run.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    keptLogDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'kept-suite-logs-'));
  project.provide('keptLogDir', dir);
  return () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
    let secrets: string[] = [];
    try {
      secrets = [...new Set(readFileSync(join(dir, 'secrets.txt'), 'utf8').split('\n').filter((s) => s !== ''))];
    } catch {
      // no test app ran (a filtered run): nothing to check
    }
    const leaks: string[] = [];
    let lines = 0;
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      lines += text.split('\n').length - 1;
      for (const s of secrets) if (text.includes(s)) leaks.push(`${f}: holds a secret beginning ${s.slice(0, 6)}…`);
    }
    process.stdout.write(`log check: ${secrets.length} secrets looked for in ${lines} log lines from ${files.length} test apps: ${leaks.length} found\n`);
    rmSync(dir, { recursive: true, force: true });
    if (leaks.length > 0) throw new Error(`secrets in the test log:\n${leaks.join('\n')}`);
  };
}

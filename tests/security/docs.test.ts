// docs/security.md's route table and the README's configuration table are checked against the
// running app and the config schema, so the documentation cannot drift from the declarations.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvSchema } from '../../server/config.js';
import { formatAccess } from '../../server/http/access.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const ROOT = join(import.meta.dirname, '../..');
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('docs/security.md', () => {
  it('lists every route of the app with the access it declares, and nothing else', () => {
    const doc = readFileSync(join(ROOT, 'docs/security.md'), 'utf8');
    // The access column: `public`, `token`, or the roles then `token` and `display` (formatAccess).
    const documented = new Set([...doc.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| ([a-z, -]+) \|$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`));
    // HEAD mirrors GET, the docs' own files are one row, the board's files are another.
    const actual = new Set(
      t.app.routeAccess.filter((r) => r.method !== 'HEAD').map((r) => (r.url.startsWith('/docs') ? `GET /docs/* ${formatAccess(r.access)}` : `${r.method} ${r.url} ${formatAccess(r.access)}`)),
    );
    expect([...actual].sort()).toEqual([...documented].sort());
  });
});

describe('README.md', () => {
  it('documents every environment variable Kept reads', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const missing = Object.keys(EnvSchema.properties).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});

// `npm run build:server`: compiles server/ and db/ to JavaScript in dist/app (tsc, same tsconfig as
// the type check), then copies the files the server reads at run time: migrations and the form's stylesheet.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/app');
rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const path of ['db/migrations', 'db/pg/migrations', 'server/http/forms/contact-form.css']) cpSync(join(root, path), join(out, path), { recursive: true });

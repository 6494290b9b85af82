// Runs Kept's automatic-mail classifier (the decision ingestEmail takes, server/ingest/email.ts
// `automaticOf`) over a folder of real mail and says how much of it is recognised as automatic.
//
//   npx tsx scripts/mail-corpus.ts <folder> [<folder> …] [--enquiries] [--misses] [--json]
//
// Each folder is walked for files (`.eml`, or any file in a maildir). Without --enquiries every
// message is expected to be automatic (a bounce corpus such as sisimai/set-of-emails' maildir/bsd)
// and the misses are listed; with --enquiries every message is expected to be a person's (the
// enquiries corpus) and the ones called automatic are listed. The exit code is 1 when anything is
// listed, so the script can guard a change. Nothing is stored; no network.
//
// The whole sisimai corpus is not committed (629 files); to run it:
//   git clone --depth 1 https://github.com/sisimai/set-of-emails /tmp/set-of-emails
//   npx tsx scripts/mail-corpus.ts /tmp/set-of-emails/maildir/bsd
// tests/ingest/mail-corpus-sisimai.test.ts runs the same when KEPT_SISIMAI_DIR names such a copy.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { automaticOf, parseMail, type MailFacts } from '../server/ingest/email.js';
import type { Automatic } from '../server/ingest/automatic.js';

export interface CorpusResult {
  file: string;
  automatic?: Automatic;
  error?: string;
  from?: string;
  subject?: string;
}

/** Every file under `dir` (sorted), skipping dot files and READMEs; a file is itself. */
export function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.') || /^readme/i.test(name)) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (statSync(dir).isDirectory()) walk(dir);
  else out.push(dir);
  return out;
}

/** Parses and classifies each file, one at a time (two cores shared: no need to hurry). */
export async function classifyCorpus(files: readonly string[], orgDomains: readonly string[] = ['livewest.example']): Promise<CorpusResult[]> {
  const results: CorpusResult[] = [];
  for (const file of files) {
    let mail: MailFacts;
    try {
      mail = await parseMail(readFileSync(file), 64 * 1024 * 1024);
    } catch (e) {
      results.push({ file, error: (e as Error).message });
      continue;
    }
    const automatic = automaticOf(mail, orgDomains);
    results.push({ file, ...(automatic !== undefined ? { automatic } : {}), from: mail.from[0]?.address ?? '', subject: (mail.subject ?? '').slice(0, 80) });
  }
  return results;
}

async function main(argv: string[]) {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const dirs = argv.filter((a) => !a.startsWith('--'));
  if (dirs.length === 0) {
    console.error('usage: npx tsx scripts/mail-corpus.ts <folder> [<folder> …] [--enquiries] [--misses] [--json]');
    process.exit(2);
  }
  const enquiries = flags.has('--enquiries');
  let listed = 0;
  const summary: Array<Record<string, unknown>> = [];
  for (const dir of dirs) {
    const results = await classifyCorpus(corpusFiles(dir));
    const recognised = results.filter((r) => r.automatic !== undefined);
    const wrong = enquiries ? recognised : results.filter((r) => r.automatic === undefined);
    listed += wrong.length;
    const byKind: Record<string, number> = {};
    for (const r of recognised) byKind[r.automatic!.kind] = (byKind[r.automatic!.kind] ?? 0) + 1;
    summary.push({ dir, files: results.length, automatic: recognised.length, notAutomatic: results.length - recognised.length, byKind, listed: wrong.map((r) => ({ file: relative(dir, r.file), ...(r.automatic ? { kind: r.automatic.kind, marker: r.automatic.marker } : {}), ...(r.error ? { error: r.error } : {}), from: r.from, subject: r.subject })) });
    if (flags.has('--json')) continue;
    console.log(`${dir}: ${recognised.length} of ${results.length} recognised as automatic ${JSON.stringify(byKind)}`);
    if (flags.has('--misses') || enquiries)
      for (const r of wrong) console.log(`  ${enquiries ? 'called automatic' : 'missed'}: ${relative(dir, r.file)}  ${r.automatic ? `${r.automatic.kind} (${r.automatic.marker})` : r.error ?? ''}  from=${r.from ?? ''}  subject=${JSON.stringify(r.subject ?? '')}`);
  }
  if (flags.has('--json')) console.log(JSON.stringify(summary, null, 2));
  process.exit(listed === 0 ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));

// The whole of sisimai/set-of-emails (629 real bounces and notices in maildir/bsd, CR LF and CR-only
// twins of 80 of them in maildir/dos and maildir/mac, and the mbox-split maildir/err), when a copy is at hand: it is not committed
// (its misses are, as fixtures in tests/fixtures/mail, with the table in mail-corpus.test.ts), and
// CI does not fetch it, so without SISIMAI_SET_OF_EMAILS this file is skipped. To run it:
//   git clone --depth 1 https://github.com/sisimai/set-of-emails /tmp/set-of-emails
//   SISIMAI_SET_OF_EMAILS=/tmp/set-of-emails npx vitest run tests/ingest/mail-corpus-sisimai.test.ts
// (scripts/mail-corpus.ts prints the same counts and lists what is missed.) The decision is the
// one ingestEmail takes (email.ts automaticOf); the corpus test proves the HTTP path on the fixtures.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyCorpus, corpusFiles } from '../../scripts/mail-corpus.js';

const ROOT = process.env.SISIMAI_SET_OF_EMAILS ?? '';
const present = ROOT !== '' && existsSync(join(ROOT, 'maildir', 'bsd'));

/**
 * Bounces a person forwarded ("Fwd: Returned mail: …" from their own address, their words above
 * it): enquiries on purpose — only the quoted text is a DSN's (mail-corpus.test.ts says why).
 */
const FORWARDED_BY_A_PERSON = new Set(['lhost-sendmail-14.eml', 'make-test-36.eml']);

describe.skipIf(!present)('sisimai/set-of-emails, every message', () => {
  for (const folder of ['bsd', 'dos', 'mac', 'err']) {
    it(`maildir/${folder}: every automatic message is recognised`, async () => {
      const results = await classifyCorpus(corpusFiles(join(ROOT, 'maildir', folder)));
      const recognised = results.filter((r) => r.automatic !== undefined).length;
      console.info(`sisimai maildir/${folder}: ${recognised} of ${results.length} recognised as automatic`);
      const missed = results.filter((r) => r.automatic === undefined && !FORWARDED_BY_A_PERSON.has(basename(r.file))).map((r) => `${basename(r.file)} (${r.error ?? r.subject})`);
      expect(missed).toEqual([]);
      // The forwarded bounces stay enquiries.
      expect(results.filter((r) => FORWARDED_BY_A_PERSON.has(basename(r.file))).every((r) => r.automatic === undefined)).toBe(true);
      expect(results.length).toBeGreaterThan(30);
    }, 120_000);
  }
  it("maildir/not: sisimai's messages that are not bounces are not automatic", async () => {
    const results = await classifyCorpus(corpusFiles(join(ROOT, 'maildir', 'not')).filter((f) => basename(f).startsWith('is-not-bounce')));
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.automatic !== undefined).map((r) => basename(r.file))).toEqual([]);
  });
});

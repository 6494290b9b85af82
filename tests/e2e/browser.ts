// End-to-end helpers: build the web app once, launch headless Chromium on a fresh profile.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.KEPT_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Builds the web app into a fresh folder (not dist/web, which `npm start` or another run may be
 * rebuilding at the same moment) and returns it, for KEPT_WEB_ROOT.
 */
export function buildWeb(): string {
  const outDir = mkdtempSync(join(tmpdir(), 'kept-web-'));
  execFileSync(join(ROOT, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn', '--outDir', outDir, '--emptyOutDir'], { cwd: ROOT, stdio: 'pipe' });
  return outDir;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * `bypassCSP`: lets a test inject axe-core (tests/e2e/axe.ts) into pages whose CSP allows only Kept's
 * own scripts; the app's pages are unchanged. `colorScheme`: the system's light or dark preference.
 */
export async function launchBrowser(viewport = { width: 1366, height: 768 }, options: { bypassCSP?: boolean; colorScheme?: 'light' | 'dark' } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'kept-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    ...(options.bypassCSP ? { bypassCSP: true } : {}),
    ...(options.colorScheme ? { colorScheme: options.colorScheme } : {}),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** POSTs JSON to the real API with the token; throws on a non-2xx answer. */
export async function postJson<T>(base: string, token: string, path: string, body: unknown): Promise<T> {
  const r = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${text}`);
  return JSON.parse(text) as T;
}

export interface CreatedContact {
  id: string;
  clocks: Array<{ standard: string; dueAt: string | null; atRiskAt: string | null; status: string }>;
}

/** Puts a signed-in person's cookies (TestApp.signIn's `cookie`) into the browser, as if they had signed in there. */
export async function useSession(browser: Browser, base: string, cookie: string): Promise<void> {
  await browser.context.addCookies(
    cookie.split('; ').map((pair) => {
      const eq = pair.indexOf('=');
      return { name: pair.slice(0, eq), value: pair.slice(eq + 1), url: base, httpOnly: true, sameSite: 'Lax' as const };
    }),
  );
}

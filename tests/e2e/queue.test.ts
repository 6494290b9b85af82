// End to end in Chromium (issue 10): an advisor signs in, sees only their queue, opens a contact with
// the keyboard, reads why it is due then, replies from the keyboard, and the clock shows met. Saves
// screenshots of My queue and the contact page (docs/screenshots with KEPT_SCREENSHOT_DIR, else a temp folder).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';
import { buildWeb, launchBrowser, postJson, ROOT, useSession, type Browser, type CreatedContact } from './browser.js';

const SHOTS = process.env.KEPT_SCREENSHOT_DIR ? resolve(ROOT, process.env.KEPT_SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'kept-shots-'));

let web: string;
let t: TestApp;
let base: string;
let browser: Browser;
let ann: SignedIn;
const ids: Record<string, string> = {};

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

beforeAll(async () => {
  web = buildWeb();
  t = await startTestApp({ KEPT_WEB_ROOT: web });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  ann = await t.signIn('advisor', { email: 'ann.advisor@staff.example.org', name: 'Ann Advisor', queues: ['customer-services'] });
  const contact = async (key: string, body: Record<string, unknown>) => {
    ids[key] = (await postJson<CreatedContact>(base, t.token, '/api/v1/contacts', { channel: 'email', externalId: `e2e-${key}`, ...body })).id;
  };
  await contact('mine', {
    receivedAt: minutesAgo(50),
    subject: 'Damp in the bedroom again',
    summary: 'The mould has come back on the outside wall of the bedroom. My son has asthma.',
    customer: { name: 'Priya Sample', email: 'priya@example.com', preferredContact: 'phone (text first)', accessibilityNeeds: 'BSL video relay', vulnerability: 'Child with asthma in the home' },
    events: [{ type: 'assigned', at: minutesAgo(45), assignee: 'ann.advisor@staff.example.org' }],
  });
  await contact('mine-complaint', {
    receivedAt: minutesAgo(200),
    category: 'complaint',
    subject: 'Repair missed twice',
    customer: { name: 'Tom Imaginary', preferredContact: 'letter', accessibilityNeeds: 'Large print' },
    events: [{ type: 'assigned', at: minutesAgo(190), assignee: 'ann.advisor@staff.example.org' }],
  });
  await contact('bobs', {
    receivedAt: minutesAgo(30),
    subject: 'Bob’s contact: rent statement',
    customer: { name: 'Someone Else' },
    events: [{ type: 'assigned', at: minutesAgo(29), assignee: 'bob.advisor@staff.example.org' }],
  });
  await contact('free', { receivedAt: minutesAgo(20), subject: 'Bins not collected', customer: { name: 'Lee Synthetic', preferredContact: 'email' } });
  await contact('flagged', { receivedAt: minutesAgo(10), subject: 'Neighbour dispute', customer: { name: 'Jo Mockup', safeguarding: true, vulnerability: 'Said she is afraid to go home' } });
  browser = await launchBrowser({ width: 1366, height: 900 });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (web) rmSync(web, { recursive: true, force: true });
  if (!process.env.KEPT_SCREENSHOT_DIR) rmSync(SHOTS, { recursive: true, force: true });
});

describe('an advisor in Chromium', () => {
  it('signs in, sees only their queue, opens a contact, reads why it is due then, replies from the keyboard; the clock shows met', async () => {
    const { page } = browser;
    await page.goto(`${base}/queue`);
    // Not signed in: the sign-in form, by the keyboard.
    await page.getByLabel('Email').focus();
    await page.keyboard.type(ann.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(ann.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'My queue' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/queue');

    const mine = page.getByRole('list', { name: /My contacts/ });
    await mine.locator('li').first().waitFor();
    const rows = await mine.locator('li').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows.join('\n')).toContain('Damp in the bedroom again');
    expect(rows.join('\n')).toContain('Repair missed twice');
    // What to know first: the vulnerability before the subject; preferred contact and needs shown.
    expect(rows.find((r) => r.includes('Damp'))!.indexOf('Vulnerable customer')).toBeLessThan(rows.find((r) => r.includes('Damp'))!.indexOf('Damp in the bedroom'));
    expect(rows.join('\n')).toContain('BSL video relay');
    const text = await page.locator('main').textContent();
    expect(text).not.toContain('rent statement'); // another advisor's
    expect(text).toContain('Bins not collected'); // unassigned, in her queue
    expect(text).toContain('Safeguarding concern');
    await page.screenshot({ path: join(SHOTS, 'my-queue.png'), fullPage: true });

    // Move to the email with j/k and open it with Enter.
    await page.keyboard.press('j');
    let focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    if (!focused.includes('Damp')) {
      await page.keyboard.press('j');
      focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    }
    expect(focused).toContain('Damp');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Damp in the bedroom again' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/contacts/${ids.mine}`);

    // Why is this due then? Opened from the keyboard.
    const summary = page.getByText('Why is this due then?').first();
    await summary.focus();
    await page.keyboard.press('Enter');
    const timeline = page.locator('.clock').first().locator('ol');
    await timeline.waitFor();
    const steps = (await timeline.locator('li').allTextContents()).map((s) => s.trim());
    expect(steps[0]).toMatch(/^The clock started/);
    expect(steps.at(-1)).toMatch(/^So it is due/);
    await expect(page.locator('.clock').first().textContent()).resolves.toMatch(/On track|At risk/);
    await page.screenshot({ path: join(SHOTS, 'contact-page.png'), fullPage: true });

    // A team lead's board in a second browser: the email tile's "handled today" moves when she replies.
    const lead = await t.signIn('team-lead', { email: 'lena.lead@staff.example.org', name: 'Lena Lead' });
    const second = await launchBrowser({ width: 1366, height: 768 });
    try {
      await useSession(second, base, lead.cookie);
      await second.page.goto(base);
      await second.page.locator('[data-testid=connection][data-state=live]').waitFor();
      const handled = () => second.page.getByTestId('tile-email').getByTestId('handled-today').textContent();
      const before = Number(await handled());

      // Reply from the keyboard: r (focus off any control).
      await page.locator('main').focus();
      await page.keyboard.press('r');
      await page.getByRole('status').filter({ hasText: 'Reply recorded.' }).waitFor();
      await expect.poll(async () => Number(await handled()), { timeout: 3000 }).toBe(before + 1);
      await expect(second.page.evaluate(() => performance.getEntriesByType('navigation').length)).resolves.toBe(1);
    } finally {
      await second.close();
    }
    await page.locator('.clock').first().filter({ hasText: 'Met' }).waitFor();
    const events = await page.locator('.events li').allTextContents();
    expect(events.at(-1)).toContain('Replied');
    expect(events.at(-1)).toContain('by ann.advisor@staff.example.org');

    // Back in the queue the email is gone (its only clock met).
    await page.goBack();
    await page.getByRole('heading', { name: 'My queue' }).waitFor();
    await page.waitForFunction(() => !(document.querySelector('ol[aria-label^="My contacts"]')?.textContent ?? '').includes('Damp'));

    // Live: new work assigned to her shows without a reload, well inside the 30 s fallback poll.
    const posted = Date.now();
    const created = await t.service.createContact({ channel: 'email', externalId: 'e2e-live-1', receivedAt: new Date().toISOString(), subject: 'Fence blown down', customer: { name: 'Fay Fence' } });
    await t.service.addEvents(created.contact.id, [{ type: 'assigned', assignee: 'ann.advisor@staff.example.org', at: new Date().toISOString() }]);
    await page.locator('ol[aria-label^="My contacts"]').filter({ hasText: 'Fence blown down' }).waitFor({ timeout: 5000 });
    expect(Date.now() - posted).toBeLessThan(5000);
  });
});

describe("an advisor's actions on a complaint, in Chromium", () => {
  it('acknowledges (a CMP reference), pauses with a reason, resumes, extends, raises a concern, transfers; each is an event with who', async () => {
    const { page } = browser; // still signed in as Ann from the test above
    const created = await t.service.createContact({
      channel: 'email',
      externalId: 'e2e-complaint-1',
      category: 'complaint',
      receivedAt: new Date().toISOString(),
      subject: 'Complaint about the repair service',
      customer: { name: 'Carl Complainant' },
      events: [{ type: 'assigned', assignee: ann.email, at: new Date().toISOString() }],
    });
    await page.goto(`${base}/contacts/${created.contact.id}`);
    await page.getByRole('heading', { name: 'Complaint about the repair service' }).waitFor();
    const status = (text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor();

    await page.getByRole('button', { name: 'Acknowledge complaint' }).click();
    await status(/Complaint acknowledged\. Reference CMP-\d{4}-\d{6}\./);

    await page.getByLabel('Pause the clock: reason').fill('Waiting for the tenant to send photos');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await status('Clock paused.');
    await page.getByRole('button', { name: 'Resume clock' }).click();
    await status('Clock resumed.');

    await page.getByLabel('Extend to an agreed date').fill('2030-01-31T17:00');
    await page.getByRole('button', { name: 'Extend' }).click();
    await status('Extended to the agreed date.');

    await page.getByLabel('Raise a safety or safeguarding concern').fill('Mentioned feeling unsafe at home');
    await page.getByRole('button', { name: 'Raise concern' }).click();
    await status('Safeguarding concern raised');

    const events = (await t.service.view(created.contact.id))!.events;
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['acknowledged', 'paused', 'resumed', 'extended']));
    for (const e of events.filter((x) => ['acknowledged', 'paused', 'resumed', 'extended'].includes(x.type))) expect(e.by).toBe(ann.email);

    await page.getByLabel('Transfer to a colleague (email)').fill('bob.advisor@staff.example.org');
    // Transferred away, the contact is no longer hers: back to My queue, which says where it went.
    await page.getByRole('button', { name: 'Transfer' }).click();
    await page.getByRole('heading', { name: 'My queue' }).waitFor();
    await status('Transferred to bob.advisor@staff.example.org.');
    expect((await t.service.contacts.byId(created.contact.id))?.assignee).toBe('bob.advisor@staff.example.org');

    // The concern is a team lead's to act on: recorded here, so the team lead's test below starts with its own.
    const alerts = ((await (await fetch(`${base}/api/v1/alerts`, { headers: { authorization: `Bearer ${t.token}` } })).json()) as { items: Array<{ id: number; contact: { id: string } | null }> }).items;
    const raised = alerts.find((a) => a.contact?.id === created.contact.id);
    expect(raised).toBeDefined();
    await postJson(base, t.token, `/api/v1/alerts/${raised!.id}/actions`, { action: 'Spoke to the tenant; no immediate risk' });
  });
});

describe('cancelling, from the keyboard', () => {
  it('an advisor cancels a duplicate with its reason: the clocks stop as cancelled, the event names her and the reason', async () => {
    const { page } = browser; // still Ann
    const created = await t.service.createContact({
      channel: 'email',
      externalId: 'e2e-duplicate-1',
      receivedAt: new Date().toISOString(),
      subject: 'Same leak, sent twice',
      customer: { name: 'Dee Double' },
      events: [{ type: 'assigned', assignee: ann.email, at: new Date().toISOString() }],
    });
    await page.goto(`${base}/contacts/${created.contact.id}`);
    await page.getByRole('heading', { name: 'Same leak, sent twice' }).waitFor();
    // The reason chosen with the arrow keys, the button reached with Tab and pressed with Enter.
    await page.getByLabel('Cancel the contact: reason').focus();
    await page.keyboard.press('ArrowDown'); // withdrawn → duplicate
    expect(await page.getByLabel('Cancel the contact: reason').inputValue()).toBe('duplicate');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Cancel contact');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Cancelled.' }).waitFor();
    const view = (await t.service.view(created.contact.id))!;
    const cancelled = view.events.find((e) => e.type === 'cancelled');
    expect(cancelled).toMatchObject({ by: ann.email, reason: 'duplicate' });
    expect(view.clocks.length).toBeGreaterThan(0);
    for (const c of view.clocks) expect(c.status).toBe('cancelled');
    // The page shows it too, without a reload.
    await page.getByText(/cancelled/i).first().waitFor();
  });
});

describe("a hazard (Awaab's Law) in My queue", () => {
  it('shows the household first, then the contact, its reply clock and its statutory clock, each counting down', async () => {
    // A damp-and-mould report confirmed as significant, assigned to Ann: the email reply (1 working day)
    // is due before the investigation (10 working days), so the row shows both.
    const created = await t.service.createContact({
      channel: 'email',
      externalId: 'e2e-hazard-1',
      receivedAt: new Date(Date.now() - 5 * 60_000).toISOString(),
      category: 'hazard-significant',
      subject: 'Black mould in the nursery',
      customer: { name: 'Kim Lorem', vulnerability: 'Baby with a chest infection' },
      events: [{ type: 'assigned', at: new Date(Date.now() - 4 * 60_000).toISOString(), assignee: 'ann.advisor@staff.example.org' }],
    });
    const { page } = browser;
    await page.goto(`${base}/queue`);
    const mine = page.getByRole('list', { name: /My contacts/ });
    const row = mine.locator('li').filter({ hasText: 'Black mould in the nursery' });
    await row.waitFor();
    const text = (await row.textContent())!;
    expect(text.indexOf('Baby with a chest infection')).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('Baby with a chest infection')).toBeLessThan(text.indexOf('Black mould in the nursery'));
    expect(text).toContain("Significant hazard (Awaab's Law)");
    const hazard = row.getByTestId('hazard-clock');
    expect(await hazard.textContent()).toContain('Investigate hazard');
    expect(await hazard.locator('.countdown').textContent()).toMatch(/^due in \d+d/);
    expect((await t.service.contacts.byId(created.contact.id))?.category).toBe('hazard-significant');
  });
});

describe('a team lead in Chromium', () => {
  it('sees the safeguarding alert and each advisor\'s load, assigns unassigned work, and records an action on the alert', async () => {
    const lead = await t.signIn('team-lead', { email: 'lee.lead@staff.example.org', name: 'Lee Lead' });
    const second = await launchBrowser({ width: 1366, height: 900 });
    try {
      const { page } = second;
      await page.goto(`${base}/sign-in?next=/team`);
      await page.getByLabel('Email').fill(lead.email);
      await page.getByLabel('Password').fill(lead.password);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Team', exact: true }).waitFor();
      const alerts = page.locator('section.alerts li');
      await alerts.first().waitFor();
      expect(await alerts.first().textContent()).toContain('Neighbour dispute');
      const load = await page.locator('table').textContent();
      expect(load).toContain('ann.advisor@staff.example.org');
      expect(load).toContain('bob.advisor@staff.example.org');
      await page.getByRole('list').filter({ hasText: 'Bins not collected' }).waitFor();
      await page.screenshot({ path: join(SHOTS, 'team.png'), fullPage: true });

      // Assign the unassigned "Bins not collected" to Ann, by the keyboard.
      await page.getByRole('checkbox', { name: 'Select Bins not collected' }).focus();
      await page.keyboard.press('Space');
      await page.getByLabel(/Assign 1 selected to/).fill('ann.advisor@staff.example.org');
      await page.keyboard.press('Enter');
      await page.getByRole('status').filter({ hasText: '1 contact assigned to ann.advisor@staff.example.org' }).waitFor();
      expect((await t.service.contacts.byId(ids.free!))?.assignee).toBe('ann.advisor@staff.example.org');

      // Record the action taken on the alert: it leaves the list.
      await page.getByLabel('Action taken').first().fill('Called Jo; referred to the safeguarding lead');
      await page.keyboard.press('Enter');
      await page.getByRole('status').filter({ hasText: 'Action recorded' }).waitFor();
      await page.getByText('No open alerts.').waitFor();

      // The live board from the same session: the socket takes the session cookie.
      await page.getByRole('link', { name: 'Live board' }).click();
      await page.waitForSelector('[data-testid=connection][data-state=live]');
    } finally {
      await second.close();
    }
  });
});

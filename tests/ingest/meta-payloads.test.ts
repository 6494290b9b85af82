// Meta's webhook payloads, in the shapes of Meta's own documentation (tests/fixtures/meta/README.md
// says where each came from), posted in order through the signed route: every product's customer
// message becomes a contact, the business's own messages become replies, delivery statuses and
// edits are counted (never contacts), a deleted message cancels its contact as withdrawn, and an
// object Kept does not read is counted and named in the answer.
import { createHmac } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

const DIR = join(import.meta.dirname, '../fixtures/meta');
const SECRET = 'meta-payloads-app-secret';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ KEPT_SOCIAL_APP_SECRET: SECRET, KEPT_SOCIAL_PAGE_ID: '1234567890' });
});
afterAll(async () => {
  await t.close();
});
const post = async (file: string) => {
  const body = readFileSync(join(DIR, file));
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/social', payload: body, headers: { ...t.auth, 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` } });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as Json;
};
const contact = async (externalId: string) => {
  const row = await t.service.contacts.byExternal('social', externalId);
  expect(row, `a contact for ${externalId}`).toBeDefined();
  return (await t.service.view(row!.id))!;
};
const reply = async (externalId: string) => (await contact(externalId)).clocks.find((c) => c.standard === 'social-reply')!;

/** In order: each file, and what must follow from it. */
const PAYLOADS: Array<[string, (r: Json) => Promise<void>]> = [
  [
    'whatsapp-text.json',
    async (r) => {
      expect([r.received, r.rejected]).toEqual([1, []]);
      const c = await contact('wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=');
      expect(c).toMatchObject({ channel: 'social', receivedAt: '2025-06-08T20:59:43.000Z', summary: 'Does it come in another color?', subject: 'WhatsApp message from Sheena Nelson' });
      expect(c.customer).toMatchObject({ name: 'Sheena Nelson', phone: '+16505551234' });
    },
  ],
  ['whatsapp-image.json', async () => expect((await contact('wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzOEFENDE2RjRBQTMxQzk5RjIA')).summary).toBe('The mould behind the wardrobe (a photo)')],
  ['whatsapp-interactive-button-reply.json', async () => expect((await contact('wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUZCNDA5QjQ3MDdFMkNGODA2QwA=')).summary).toBe('Change')],
  ['whatsapp-template-button.json', async () => expect((await contact('wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQjE3ODhFRDU3QjZBNTk3RkU2NAA=')).summary).toBe('Reschedule my appointment')],
  [
    'whatsapp-smb-message-echo.json',
    async (r) => {
      // The business's own message answers every message from that customer still waiting.
      expect(r.received).toBe(1);
      expect(r.contacts).toHaveLength(4);
      expect((await reply('wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=')).status).toBe('met');
    },
  ],
  [
    'whatsapp-status-failed.json',
    async (r) => {
      // The business's reply never reached the customer: it no longer meets the clocks it had met.
      expect(r.received).toBe(1);
      expect(r.contacts).toHaveLength(4);
      const c = await contact('wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=');
      expect(c.clocks.find((k) => k.standard === 'social-reply')!.status).not.toBe('met');
      expect(c.events.map((e) => e.type)).toEqual(['replied', 'undelivered']);
    },
  ],
  ['whatsapp-status-delivered.json', async (r) => expect([r.received, r.ignored, r.ignoredKinds]).toEqual([0, 1, { 'whatsapp.statuses.delivered': 1 }])],
  [
    'instagram-comment.json',
    async () => {
      const c = await contact('17865799348089039');
      expect(c).toMatchObject({ subject: 'Instagram comment from tenant_jo', summary: 'Nobody has come about my leak', receivedAt: '2025-06-08T21:06:40.000Z' });
      expect(c.source).toMatchObject({ platform: 'instagram', kind: 'comment', postId: '17887498072083520' });
    },
  ],
  ['instagram-own-reply.json', async (r) => expect([r.received, (await reply('17865799348089039')).status]).toEqual([1, 'met'])],
  ['instagram-mention.json', async () => expect((await contact('17894227972186120')).source).toMatchObject({ platform: 'instagram', kind: 'mention', postId: '17918195224117851' })],
  ['instagram-message.json', async () => expect((await contact('aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTc0NTA0NzAzODA2MzE4OTo')).subject).toBe('Instagram message')],
  ['instagram-message-echo.json', async (r) => expect([r.received, (await reply('aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTc0NTA0NzAzODA2MzE4OTo')).status]).toEqual([1, 'met'])],
  ['instagram-message-2.json', async (r) => expect(r.received).toBe(1)],
  [
    'instagram-message-deleted.json',
    async (r) => {
      const mid = 'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTc0NTA0NzAzODA2MzE5MTo';
      expect(r.withdrawn).toEqual([(await contact(mid)).id]);
      expect(await reply(mid)).toMatchObject({ status: 'cancelled', reason: 'withdrawn' });
    },
  ],
  ['messenger-standby.json', async () => expect(await contact('m_standby_1')).toMatchObject({ subject: 'Facebook message', summary: 'Is anyone there? My heating is off.' })],
  ['messenger-message-edit.json', async (r) => expect([r.received, r.ignoredKinds]).toEqual([0, { 'facebook.messaging.message_edit': 1 }])],
  [
    'page-feed-v25-customer-comment.json',
    async () => {
      // No created_time: the entry's time, in seconds.
      const c = await contact('1234567890_333');
      expect(c).toMatchObject({ receivedAt: '2025-06-08T21:20:50.000Z', subject: 'Facebook comment from Pat Tenant' });
    },
  ],
  ['page-feed-v25-own-comment.json', async (r) => expect([r.received, (await reply('1234567890_333')).status]).toEqual([1, 'met'])],
  ['unknown-object-user.json', async (r) => expect([r.received, r.ignored, r.ignoredKinds]).toEqual([0, 1, { 'object:user': 1 }])],
];

describe("Meta's payloads", () => {
  it('every fixture is in the table', () => {
    expect(readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()).toEqual(PAYLOADS.map(([f]) => f).sort());
  });
  for (const [file, check] of PAYLOADS) {
    it(file, async () => {
      await check(await post(file));
    });
  }
  it('a page-feed own comment is never a customer contact', async () => {
    expect(await t.service.contacts.byExternal('social', '1234567890_444')).toBeUndefined();
  });
});

it("a sender's social contacts are found by the contacts_social_sender index", () => {
  const rows = t.connection.sqlite
    .prepare("EXPLAIN QUERY PLAN SELECT id FROM contacts WHERE channel = 'social' AND json_extract(source, '$.senderId') = ? ORDER BY received_at DESC LIMIT ?")
    .all('16505551234', 50) as Array<{ detail: string }>;
  const details = rows.map((r) => r.detail).join(' | ');
  expect(details).toMatch(/SEARCH contacts USING INDEX contacts_social_sender/);
  expect(details).not.toMatch(/SCAN|TEMP B-TREE/);
});

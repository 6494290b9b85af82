// Messages, notices and saved boards (issue 11): a team lead's message reaches two open boards (real
// WebSocket clients) without a reload, greets a board that opens later, and is taken down; an admin's
// public notice is on the public status and the contact form between its start and end; saved boards
// and the display's rotation, over HTTP, audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerMessage } from '../../server/live/protocol.js';
import { startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';

let t: TestApp;
let base: string;
let lead: SignedIn;
let admin: SignedIn;
beforeAll(async () => {
  t = await startTestApp();
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  lead = await t.signIn('team-lead');
  admin = await t.signIn('admin');
});
afterAll(async () => {
  await t.close();
});

/** A board's socket that records every frame and can wait for one. */
function board(headers: Record<string, string>) {
  const frames: ServerMessage[] = [];
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/live`, { headers });
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as ServerMessage));
  const message = async (test: (text: string | null) => boolean) => {
    await expect.poll(() => frames.some((f) => f.type === 'message' && test(f.message?.text ?? null)), { timeout: 3000 }).toBe(true);
  };
  return { ws, frames, message, opened: new Promise<void>((r, j) => (ws.once('open', () => r()), ws.once('error', j))) };
}

describe('the team lead message on every board', () => {
  it('reaches two open boards at once, greets a board opened later, and comes down everywhere', async () => {
    const display = await t.openDisplay('Floor');
    const a = board(t.auth);
    const b = board({ cookie: display.cookie, origin: base });
    await Promise.all([a.opened, b.opened]);
    // Each board is greeted with the message standing: none yet.
    await a.message((text) => text === null);
    await b.message((text) => text === null);

    const put = await t.app.inject({ method: 'PUT', url: '/api/v1/board/message', headers: lead.headers, payload: { text: 'Phones down at 14:00: take messages by hand' } });
    expect(put.statusCode, put.body).toBe(200);
    await a.message((text) => text === 'Phones down at 14:00: take messages by hand');
    await b.message((text) => text === 'Phones down at 14:00: take messages by hand');
    const frame = b.frames.findLast((f) => f.type === 'message');
    expect(frame).toMatchObject({ type: 'message', message: { by: lead.email, until: null } });

    const late = board(t.auth);
    await late.message((text) => text === 'Phones down at 14:00: take messages by hand');
    // The display may read it too (the board page's first paint).
    const read = await t.app.inject({ method: 'GET', url: '/api/v1/board/message', headers: { cookie: display.cookie } });
    expect((read.json() as { message: { text: string } }).message.text).toBe('Phones down at 14:00: take messages by hand');

    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/board/message', headers: lead.headers })).statusCode).toBe(204);
    for (const c of [a, b, late]) {
      await expect.poll(() => c.frames.findLast((f) => f.type === 'message')).toEqual({ type: 'message', message: null });
      c.ws.close();
    }
    const audit = await t.service.audit.page({ action: 'board-message.post' });
    expect(audit.items.map((e) => e.actor)).toEqual([lead.email]);
  });

  it('refuses a blank message or an until in the past, naming the field', async () => {
    const blank = await t.app.inject({ method: 'PUT', url: '/api/v1/board/message', headers: lead.headers, payload: { text: '   ' } });
    expect([blank.statusCode, (blank.json() as { field: string }).field]).toEqual([400, 'text']);
    const past = await t.app.inject({ method: 'PUT', url: '/api/v1/board/message', headers: lead.headers, payload: { text: 'x', until: '2020-01-01T00:00:00Z' } });
    expect([past.statusCode, (past.json() as { field: string }).field]).toEqual([400, 'until']);
  });
});

describe('a public notice', () => {
  const status = async () => (await t.app.inject({ method: 'GET', url: '/api/v1/status/public' })).json() as { notice: { kind: string; title: string; message: string; startsAt: string; endsAt: string } | null };
  const form = async () => (await t.app.inject({ method: 'GET', url: '/forms/contact' })).body;

  it('is on the public status and the contact form from its start to its end, and goes when withdrawn', async () => {
    expect((await status()).notice).toBeNull();
    const now = Date.now();
    const later = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notices',
      headers: admin.headers,
      payload: { kind: 'weather', title: 'Snow: offices closed Friday', message: 'Phone lines stay open.', startsAt: new Date(now + 86_400_000).toISOString(), endsAt: new Date(now + 2 * 86_400_000).toISOString() },
    });
    expect(later.statusCode, later.body).toBe(201);
    // Not started yet: not shown.
    expect((await status()).notice).toBeNull();
    expect(await form()).not.toContain('Snow');

    const endsAt = new Date(now + 2 * 3_600_000).toISOString();
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notices',
      headers: admin.headers,
      payload: { kind: 'technical', title: 'Our phone lines are down', message: 'We are fixing it. Use this form & we will reply.', endsAt },
    });
    expect(r.statusCode, r.body).toBe(201);
    const id = (r.json() as { id: number }).id;
    expect((await status()).notice).toMatchObject({ kind: 'technical', title: 'Our phone lines are down', message: 'We are fixing it. Use this form & we will reply.', endsAt });
    const page = await form();
    expect(page).toContain('<h2 id="notice-title">Our phone lines are down</h2>');
    expect(page).toContain('We are fixing it. Use this form &#38; we will reply.');
    // And on the page after sending.
    expect((await t.app.inject({ method: 'GET', url: '/forms/contact?sent=1' })).body).toContain('<h2 id="notice-title">Our phone lines are down</h2>');

    const listed = (await t.app.inject({ method: 'GET', url: '/api/v1/notices', headers: lead.headers })).json() as { items: Array<{ title: string }> };
    expect(listed.items.map((n) => n.title).sort()).toEqual(['Our phone lines are down', 'Snow: offices closed Friday']);

    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/notices/${id}`, headers: admin.headers })).statusCode).toBe(204);
    expect((await status()).notice).toBeNull();
    expect(await form()).not.toContain('phone lines are down');
  });

  it('refuses an end before the start, naming the field; only an admin sets one', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/notices', headers: admin.headers, payload: { kind: 'other', title: 't', message: 'm', startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' } });
    expect([bad.statusCode, (bad.json() as { field: string }).field]).toEqual([400, 'endsAt']);
    const byLead = await t.app.inject({ method: 'POST', url: '/api/v1/notices', headers: lead.headers, payload: { kind: 'other', title: 't', message: 'm', endsAt: '2030-01-01T00:00:00Z' } });
    expect(byLead.statusCode).toBe(403);
  });
});

describe('saved boards and the wall display', () => {
  it('a team saves its filters; a display shows one or rotates through several; a deleted board leaves the rotation', async () => {
    const save = (body: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/api/v1/boards', headers: lead.headers, payload: body });
    const repairs = await save({ name: 'Repairs', team: 'Repairs team', filter: { queues: ['repairs'], channels: ['phone', 'email'], categories: ['emergency-repair', 'repair'] } });
    expect(repairs.statusCode, repairs.body).toBe(201);
    const complaints = await save({ name: 'Complaints', team: 'Complaints team', filter: { categories: ['complaint'] } });
    const ids = [(repairs.json() as { id: number }).id, (complaints.json() as { id: number }).id];
    expect(complaints.json()).toMatchObject({ name: 'Complaints', filter: { queues: [], channels: [], categories: ['complaint'] } });
    const clash = await save({ name: 'Repairs', team: 'x', filter: {} });
    expect([clash.statusCode, (clash.json() as { field: string }).field]).toEqual([409, 'name']);
    const badChannel = await save({ name: 'X', team: 'x', filter: { channels: ['fax'] } });
    expect(badChannel.statusCode).toBe(400);

    const display = await t.openDisplay('Repairs wall');
    const choose = (body: Record<string, unknown>) => t.app.inject({ method: 'PUT', url: `/api/v1/displays/${display.id}/boards`, headers: admin.headers, payload: body });
    const unknown = await choose({ boards: [ids[0], 999999] });
    expect([unknown.statusCode, (unknown.json() as { field: string }).field]).toEqual([404, 'boards/1']);
    expect((await choose({ boards: ids, seconds: 30 })).json()).toEqual({ displayId: display.id, boards: ids, seconds: 30 });

    const seen = async () => (await t.app.inject({ method: 'GET', url: '/api/v1/boards', headers: { cookie: display.cookie } })).json() as { items: Array<{ id: number; name: string }>; rotation: { boards: number[]; seconds: number } | null };
    const shown = await seen();
    expect(shown.rotation).toEqual({ boards: ids, seconds: 30 });
    expect(shown.items.map((b) => b.name).sort()).toEqual(['Complaints', 'Repairs']);
    // A person sees the boards, and no rotation of their own.
    expect(((await t.app.inject({ method: 'GET', url: '/api/v1/boards', headers: lead.headers })).json() as { rotation: unknown }).rotation).toBeNull();

    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/boards/${ids[0]}`, headers: lead.headers })).statusCode).toBe(204);
    expect((await seen()).rotation).toEqual({ boards: [ids[1]], seconds: 30 });
    const all = (await t.app.inject({ method: 'GET', url: '/api/v1/display-boards', headers: admin.headers })).json() as { items: Array<{ displayId: number; boards: number[] }> };
    expect(all.items).toMatchObject([{ displayId: display.id, boards: [ids[1]] }]);
    // No boards: the display shows the whole centre again.
    expect((await choose({ boards: [] })).json()).toEqual({ displayId: display.id, boards: [], seconds: null });
    expect((await seen()).rotation).toBeNull();
    expect((await t.service.audit.page({ action: 'display.boards' })).items).toHaveLength(2);
  });
});

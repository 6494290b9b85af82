// The live hub (server/live/hub.ts) with real WebSocket clients: a snapshot built asynchronously (its
// urgent rows' contacts are read from the store) must be followed by exactly the deltas it does not
// already cover, be shared by boards connecting while it is built, and close the socket if it fails.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { LiveHub, type ResumeSource, type SnapshotSource } from '../../server/live/hub.js';
import type { DeltaMessage, SnapshotMessage } from '../../server/live/protocol.js';

let wss: WebSocketServer | null = null;
let hub: LiveHub | null = null;
afterEach(async () => {
  hub?.close();
  if (wss !== null) await new Promise((r) => wss!.close(r));
  wss = hub = null;
});

/** A hub on a real WebSocket server; each connection is handed to hub.add with its `since`. */
async function serve(source: SnapshotSource, resume?: ResumeSource): Promise<{ hub: LiveHub; url: string }> {
  hub = new LiveHub(source, { heartbeatMs: 60_000, ...(resume !== undefined ? { resume } : {}) });
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  wss.on('connection', (socket, request) => {
    const query = new URL(request.url ?? '/', 'http://x').searchParams;
    const since = query.get('since');
    hub!.add(socket, since === null ? null : Number(since), query.get('mark'));
  });
  return { hub, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/` };
}

/** A client that records every frame's type and seq. */
async function board(url: string): Promise<{ frames: Array<{ type: string; seq?: number }>; closed: Promise<number>; socket: WebSocket }> {
  const socket = new WebSocket(url);
  const frames: Array<{ type: string; seq?: number }> = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as { type: string; seq?: number }));
  const closed = new Promise<number>((r) => socket.on('close', (code) => r(code)));
  await once(socket, 'open');
  return { frames, closed, socket };
}

const snapshotAt = (seq: number): SnapshotMessage => ({ type: 'snapshot', seq, board: {} as SnapshotMessage['board'], urgent: [], urgentTotal: 0, urgentLimit: 500 });
const delta = (seq: number): DeltaMessage => ({ type: 'delta', seq, cause: 'contact', board: {} as DeltaMessage['board'], upsert: [], remove: [], contacts: [] });
const gate = () => {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
};

describe('LiveHub with an asynchronous snapshot', () => {
  it('sends the snapshot, then only the deltas after the seq it was taken at; boards connecting meanwhile share it', async () => {
    const figuresTaken = gate();
    const rowsRead = gate();
    let builds = 0;
    const { hub, url } = await serve(async (seqNow) => {
      builds++;
      await figuresTaken.p; // e.g. deltas queued before it still going out
      const seq = seqNow();
      await rowsRead.p; // the urgent rows' contacts being read
      return snapshotAt(seq);
    });
    const start = hub.currentSeq;
    const first = await board(url);
    const second = await board(url);
    await expect.poll(() => hub.clientCount).toBe(2);
    hub.broadcast(delta); // start + 1: before the figures are taken, so the snapshot covers it
    figuresTaken.open();
    await new Promise((r) => setImmediate(r));
    hub.broadcast(delta); // start + 2: after, so it must follow the snapshot
    rowsRead.open();
    hub.broadcast(delta); // start + 3: after the snapshot went out
    for (const b of [first, second]) {
      await expect.poll(() => b.frames.length).toBe(3);
      expect(b.frames).toEqual([snapshotAt(start + 1), delta(start + 2), delta(start + 3)]);
    }
    expect(builds).toBe(1);
  });

  it('a board that connects after a delta does not share the snapshot begun before it', async () => {
    const release = gate();
    const seqs: number[] = [];
    const { hub, url } = await serve(async (seqNow) => {
      await release.p;
      seqs.push(seqNow());
      return snapshotAt(seqNow());
    });
    const start = hub.currentSeq;
    const first = await board(url);
    await expect.poll(() => hub.clientCount).toBe(1);
    hub.broadcast(delta);
    const second = await board(url);
    await expect.poll(() => hub.clientCount).toBe(2);
    release.open();
    await expect.poll(() => second.frames.length).toBe(1);
    expect(seqs.length).toBe(2);
    expect(first.frames).toEqual([snapshotAt(start + 1)]);
    expect(second.frames).toEqual([snapshotAt(start + 1)]);
  });

  it('a snapshot that cannot be built closes the socket (1011) so the board asks again', async () => {
    const { hub, url } = await serve(async () => {
      throw new Error('store away');
    });
    const b = await board(url);
    expect(await b.closed).toBe(1011);
    expect(hub.clientCount).toBe(0);
    expect(b.frames).toEqual([]);
  });
});

describe('LiveHub resuming a board moved from another instance', () => {
  it("with another instance's since and a mark: the resume delta, then the deltas after the seq it was numbered with", async () => {
    const built = gate();
    const asked: Array<{ mark: string; since: number }> = [];
    const { hub, url } = await serve(
      async (seqNow) => snapshotAt(seqNow()),
      async (mark, since, seqNow) => {
        asked.push({ mark, since });
        const seq = seqNow(); // read first: what is broadcast from here on follows the resume
        await built.p; // the feed read, the rows' contacts read
        return { ...delta(seq), prev: since };
      },
    );
    const start = hub.currentSeq;
    const moved = await board(`${url}?since=42&mark=9.1.1700000000000`);
    await expect.poll(() => asked.length).toBe(1);
    hub.broadcast(delta); // start + 1, while the resume is built: held, sent after it
    built.open();
    hub.broadcast(delta); // start + 2
    await expect.poll(() => moved.frames.length).toBe(3);
    expect(moved.frames).toEqual([{ ...delta(start), prev: 42 }, delta(start + 1), delta(start + 2)]);
    expect(asked).toEqual([{ mark: '9.1.1700000000000', since: 42 }]);
    expect([hub.resumed, hub.resumeRefused]).toEqual([1, 0]);
  });

  it('boards moved with the same since and mark share one resume while nothing is broadcast; after a delta, a new one', async () => {
    const built = gate();
    let calls = 0;
    const { hub, url } = await serve(
      async (seqNow) => snapshotAt(seqNow()),
      async (_mark, since, seqNow) => {
        calls++;
        const seq = seqNow();
        await built.p;
        return { ...delta(seq), prev: since };
      },
    );
    const start = hub.currentSeq;
    const herd = await Promise.all(Array.from({ length: 20 }, () => board(`${url}?since=42&mark=9.1.1700000000000`)));
    await expect.poll(() => hub.clientCount).toBe(20);
    built.open();
    for (const b of herd) await expect.poll(() => b.frames).toEqual([{ ...delta(start), prev: 42 }]);
    expect(calls).toBe(1);
    // Another since or mark is another board's position: its own resume.
    const other = await board(`${url}?since=43&mark=9.1.1700000000000`);
    await expect.poll(() => other.frames.length).toBe(1);
    expect(calls).toBe(2);
    hub.broadcast(delta); // start + 1: a board resumed from now on needs it too
    const late = await board(`${url}?since=42&mark=9.1.1700000000000`);
    await expect.poll(() => late.frames).toEqual([{ ...delta(start + 1), prev: 42 }]);
    expect([calls, hub.resumed]).toEqual([3, 22]);
  });

  it('a snapshot when the resume cannot be built (null, or it fails), or the board has no mark; its own since replays as before', async () => {
    let answer: 'null' | 'throw' = 'null';
    let calls = 0;
    const { hub, url } = await serve(
      async (seqNow) => snapshotAt(seqNow()),
      async () => {
        calls++;
        if (answer === 'throw') throw new Error('the feed could not be read');
        return null;
      },
    );
    const start = hub.currentSeq;
    const a = await board(`${url}?since=42&mark=9.1.1700000000000`);
    await expect.poll(() => a.frames.length).toBe(1);
    expect(a.frames[0]).toEqual(snapshotAt(start));
    answer = 'throw';
    const b = await board(`${url}?since=43&mark=9.1.1700000000000`); // another position: not the shared answer above
    await expect.poll(() => b.frames.length).toBe(1);
    expect(b.frames[0]).toEqual(snapshotAt(start));
    const c = await board(`${url}?since=42`);
    await expect.poll(() => c.frames.length).toBe(1);
    expect(c.frames[0]!.type).toBe('snapshot');
    expect([calls, hub.resumed, hub.resumeRefused]).toEqual([2, 0, 2]);
    // A since this hub numbered is replayed from its own deltas, mark or not: the resume is not asked.
    hub.broadcast(delta);
    hub.broadcast(delta);
    const d = await board(`${url}?since=${start + 1}&mark=9.1.1700000000000`);
    await expect.poll(() => d.frames.length).toBe(1);
    expect(d.frames).toEqual([delta(start + 2)]);
    expect(calls).toBe(2);
  });
});

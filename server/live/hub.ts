// The WebSocket hub: a snapshot on connect, then numbered deltas; replay after a reconnect (or, for
// a board moved from another instance, one delta that resumes it from its mark); heartbeats find
// dead peers; a client that cannot keep up is dropped (it resyncs) rather than slowing the others.
import type { WebSocket } from 'ws';
import type { DeltaMessage, HeartbeatMessage, SnapshotMessage } from './protocol.js';

export interface HubOptions {
  /**
   * Where this hub's numbering starts (default: the start-up instant in ms). Several instances behind
   * one load balancer (PostgreSQL) each start at a random point of a 2^52-wide range instead, so one
   * instance's numbers mean nothing to another: a board that moves with its `since` is never given the
   * other instance's deltas after a number that happens to be in both ranges (or a false "nothing
   * missed" when the numbers are equal). It resumes from its `mark` instead (`resume`), or gets a snapshot.
   */
  seqStart?: number;
  /** Deltas kept for clients that reconnect with `since`. */
  replayLimit?: number;
  /** Bytes queued on one socket beyond which the client is dropped. */
  maxBufferedBytes?: number;
  heartbeatMs?: number;
  /**
   * A snapshot built for one client is sent as it is to others connecting within this many ms while
   * nothing has changed (same seq): 1,000 boards reconnecting after a restart cost one snapshot,
   * not 1,000. Keep it well under a second (boards sync their clock on `board.at`).
   */
  snapshotReuseMs?: number;
  /**
   * A board that comes with another instance's `since` and the `mark` of the last message it applied
   * (PostgreSQL, many instances): the delta that brings it up to date here, numbered with `seqNow()`
   * read before anything is taken (deltas after it follow, overlapping harmlessly), or null when it
   * cannot be built (the board then gets a snapshot). LiveService.resume.
   */
  resume?: ResumeSource;
}

interface Client {
  socket: WebSocket;
  alive: boolean;
  /**
   * Bytes of the snapshot (or replay) queued on connect, not held against the client until they
   * have drained: a board with a long urgent list gets a snapshot of several MB, and dropping it
   * for that would only make it reconnect and fetch the same snapshot again.
   */
  grace: number;
  /**
   * Frames sent while its snapshot is being built, held to follow it (deltas with their seq: those the
   * snapshot already covers are dropped); null once the snapshot has gone.
   */
  held: Array<{ seq: number | null; data: string | Buffer }> | null;
}

/** Builds the board's snapshot, numbered with `seqNow()` read at the instant its figures are taken. */
export type SnapshotSource = (seqNow: () => number) => Promise<SnapshotMessage>;

/** Builds the delta that resumes a board moved from another instance: HubOptions.resume. */
export type ResumeSource = (mark: string, since: number, seqNow: () => number) => Promise<DeltaMessage | null>;

export class LiveHub {
  /**
   * Starts at the start-up instant in ms, not 0: deltas are at most one per broadcast gap (≥ 1 ms), so
   * every seq of an earlier run is below this one's start, and a board that reconnects across a
   * restart with its old `since` gets a snapshot, never another run's deltas or a false "nothing missed".
   */
  private seq = Date.now();
  private readonly replay: Array<{ seq: number; text: string }> = [];
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly replayLimit: number;
  private readonly maxBuffered: number;
  private readonly snapshotReuseMs: number;
  private readonly resume: ResumeSource | null;
  /** Boards resumed from another instance's mark, and those that came with one but got a snapshot. */
  resumed = 0;
  resumeRefused = 0;
  private lastSnapshot: { seq: number; at: number; text: string } | null = null;
  /** The snapshot being built, shared by boards connecting while no delta has gone out since it began. */
  private building: { fromSeq: number; done: Promise<{ seq: number; text: string }> } | null = null;
  /**
   * Resumes being built, or built while nothing has been broadcast since, by `since/mark`: the boards
   * of an instance that went away all come with the same since and mark, and 1,000 of them cost one
   * resume (one read of the feed, one pass over the clocks), as 1,000 boards connecting cost one snapshot.
   */
  private readonly resumes = new Map<string, { fromSeq: number; doneAt: number | null; done: Promise<{ seq: number; text: string } | null> }>();
  /** Frames each board gets once connected (the team lead's message standing now). */
  private readonly greeters: Array<() => object | null> = [];
  dropped = 0;

  constructor(
    private readonly snapshot: SnapshotSource,
    options: HubOptions = {},
  ) {
    if (options.seqStart !== undefined) this.seq = options.seqStart;
    this.replayLimit = options.replayLimit ?? 2000;
    this.maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.snapshotReuseMs = options.snapshotReuseMs ?? 250;
    this.resume = options.resume ?? null;
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get currentSeq(): number {
    return this.seq;
  }

  /**
   * A new socket: replay what it missed since `since`, or send a fresh snapshot. With a `since` this hub
   * never numbered and a `mark` (a board moved from another instance), the resume delta instead when
   * it can be built.
   */
  add(socket: WebSocket, since: number | null, mark: string | null = null): void {
    const client: Client = { socket, alive: true, grace: 0, held: null };
    this.clients.add(client);
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('message', () => {
      client.alive = true; // any client traffic proves it is there
    });
    const drop = () => this.clients.delete(client);
    socket.on('close', drop);
    socket.on('error', drop);
    const first = this.replay[0];
    if (since !== null && since === this.seq) {
      this.greetOne(client); // nothing missed
      return;
    }
    if (since !== null && since < this.seq && first !== undefined && first.seq <= since + 1) {
      for (const d of this.replay) {
        if (d.seq <= since) continue;
        this.send(client, d.text);
        client.grace += d.text.length;
      }
      this.greetOne(client);
      return;
    }
    client.held = [];
    const resume = since !== null && mark !== null && this.resume !== null ? this.resumeText(this.resume, mark, since) : null;
    const first$ = resume === null ? this.snapshotText() : resume.then((r) => r ?? this.snapshotText());
    first$.then(
      ({ seq, text }) => {
        const held = client.held ?? [];
        client.held = null;
        if (!this.clients.has(client)) return;
        this.send(client, text);
        client.grace = text.length;
        for (const h of held) if (h.seq === null || h.seq > seq) this.send(client, h.data);
        this.greetOne(client);
      },
      () => {
        // No snapshot to give (the store failed): the board reconnects and asks again.
        this.clients.delete(client);
        socket.close(1011, 'snapshot unavailable');
      },
    );
  }

  /** The resume delta as text (shared: `resumes`), or null when the board must have a snapshot instead; counted per board. */
  private async resumeText(resume: ResumeSource, mark: string, since: number): Promise<{ seq: number; text: string } | null> {
    const key = `${since}/${mark}`;
    const now = Date.now();
    for (const [k, r] of this.resumes) if (r.doneAt !== null && now - r.doneAt >= this.snapshotReuseMs) this.resumes.delete(k);
    let entry = this.resumes.get(key);
    if (entry === undefined || entry.fromSeq !== this.seq) {
      const made: NonNullable<typeof entry> = {
        fromSeq: this.seq,
        doneAt: null,
        done: resume(mark, since, () => this.seq).then(
          (message) => (message === null ? null : { seq: message.seq, text: JSON.stringify(message) }),
          () => null, // the feed could not be read: a snapshot serves as well
        ),
      };
      void made.done.then(() => {
        made.doneAt = Date.now();
      });
      this.resumes.set(key, made);
      entry = made;
    }
    const built = await entry.done;
    if (built === null) this.resumeRefused++;
    else this.resumed++;
    return built;
  }

  /** An unnumbered frame (not replayed) to every open board: the team lead's message. */
  post(message: object): void {
    const data = Buffer.from(JSON.stringify(message));
    for (const c of this.clients) this.send(c, data);
  }

  /** Frames each board gets once it is connected (after its snapshot or replay, or when it missed nothing). */
  greet(frame: () => object | null): void {
    this.greeters.push(frame);
  }

  private greetOne(client: Client): void {
    for (const g of this.greeters) {
      const f = g();
      if (f !== null) this.send(client, JSON.stringify(f));
    }
  }

  private async snapshotText(): Promise<{ seq: number; text: string }> {
    const last = this.lastSnapshot;
    if (last !== null && last.seq === this.seq && Date.now() - last.at < this.snapshotReuseMs) return last;
    if (this.building !== null && this.building.fromSeq === this.seq) return this.building.done;
    const building = {
      fromSeq: this.seq,
      done: this.snapshot(() => this.seq).then((message) => {
        const built = { seq: message.seq, at: Date.now(), text: JSON.stringify(message) };
        if (built.seq === this.seq) this.lastSnapshot = built;
        return built;
      }),
    };
    this.building = building;
    const clear = () => {
      if (this.building === building) this.building = null;
    };
    building.done.then(clear, clear);
    return building.done;
  }

  /** Numbers a delta, keeps it for replay and sends it to every client (serialised once). */
  broadcast(build: (seq: number) => DeltaMessage): void {
    this.seq++;
    this.lastSnapshot = null;
    this.resumes.clear();
    const text = JSON.stringify(build(this.seq));
    this.replay.push({ seq: this.seq, text });
    if (this.replay.length > this.replayLimit) this.replay.splice(0, this.replay.length - this.replayLimit);
    // Encoded once: a string would be converted to bytes again for every socket.
    const data = Buffer.from(text);
    for (const c of this.clients) this.send(c, data, this.seq);
  }

  skip(): void {
    this.seq++;
    this.lastSnapshot = null;
    this.resumes.clear();
    this.replay.length = 0; // what was skipped cannot be replayed: reconnecting clients get a snapshot
  }

  /** `seq`: a delta's number (a board waiting for its snapshot keeps only those after it). */
  private send(client: Client, text: string | Buffer, seq: number | null = null): void {
    if (client.held !== null) {
      client.held.push({ seq, data: text });
      return;
    }
    const s = client.socket;
    if (s.readyState !== s.OPEN) return;
    const buffered = s.bufferedAmount;
    if (client.grace > 0 && buffered <= this.maxBuffered) client.grace = 0; // the snapshot has drained
    if (buffered > this.maxBuffered + client.grace) {
      // Too slow: drop it; it reconnects with `since` and catches up or gets a snapshot.
      this.dropped++;
      this.clients.delete(client);
      s.terminate();
      return;
    }
    s.send(text, { binary: false }); // a text frame, whether handed a string or its UTF-8 bytes
  }

  private beat(): void {
    const message: HeartbeatMessage = { type: 'heartbeat', seq: this.seq, at: new Date().toISOString() };
    const text = Buffer.from(JSON.stringify(message));
    for (const c of this.clients) {
      if (!c.alive) {
        this.clients.delete(c);
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
      this.send(c, text);
    }
  }

  /** Closes every socket (server shutdown, or a test cutting connections). */
  disconnectAll(): void {
    for (const c of this.clients) c.socket.terminate();
    this.clients.clear();
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.disconnectAll();
  }
}

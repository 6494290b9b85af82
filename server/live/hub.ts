// The WebSocket hub: a snapshot on connect, then numbered deltas; replay after a reconnect;
// heartbeats find dead peers; a client that cannot keep up is dropped (it resyncs) rather than
// slowing the others.
import type { WebSocket } from 'ws';
import type { DeltaMessage, HeartbeatMessage, SnapshotMessage } from './protocol.js';

export interface HubOptions {
  /** Deltas kept for clients that reconnect with `since`. */
  replayLimit?: number;
  /** Bytes queued on one socket beyond which the client is dropped. */
  maxBufferedBytes?: number;
  heartbeatMs?: number;
}

interface Client {
  socket: WebSocket;
  alive: boolean;
}

export class LiveHub {
  private seq = 0;
  private readonly replay: Array<{ seq: number; text: string }> = [];
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly replayLimit: number;
  private readonly maxBuffered: number;
  dropped = 0;

  constructor(
    private readonly snapshot: (seq: number) => SnapshotMessage,
    options: HubOptions = {},
  ) {
    this.replayLimit = options.replayLimit ?? 2000;
    this.maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get currentSeq(): number {
    return this.seq;
  }

  /** A new socket: replay what it missed since `since`, or send a fresh snapshot. */
  add(socket: WebSocket, since: number | null): void {
    const client: Client = { socket, alive: true };
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
    if (since !== null && since === this.seq) return; // nothing missed
    if (since !== null && since < this.seq && first !== undefined && first.seq <= since + 1) {
      for (const d of this.replay) if (d.seq > since) this.send(client, d.text);
      return;
    }
    this.send(client, JSON.stringify(this.snapshot(this.seq)));
  }

  /** Numbers a delta, keeps it for replay and sends it to every client (serialised once). */
  broadcast(build: (seq: number) => DeltaMessage): void {
    this.seq++;
    const text = JSON.stringify(build(this.seq));
    this.replay.push({ seq: this.seq, text });
    if (this.replay.length > this.replayLimit) this.replay.splice(0, this.replay.length - this.replayLimit);
    for (const c of this.clients) this.send(c, text);
  }

  skip(): void {
    this.seq++;
    this.replay.length = 0; // what was skipped cannot be replayed: reconnecting clients get a snapshot
  }

  private send(client: Client, text: string): void {
    const s = client.socket;
    if (s.readyState !== s.OPEN) return;
    if (s.bufferedAmount > this.maxBuffered) {
      // Too slow: drop it; it reconnects with `since` and catches up or gets a snapshot.
      this.dropped++;
      this.clients.delete(client);
      s.terminate();
      return;
    }
    s.send(text);
  }

  private beat(): void {
    const message: HeartbeatMessage = { type: 'heartbeat', seq: this.seq, at: new Date().toISOString() };
    const text = JSON.stringify(message);
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

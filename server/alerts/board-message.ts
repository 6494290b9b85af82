// A team lead's message on every board: stored (it survives a restart), pushed at once to every open
// board over the board socket as an unnumbered `{type: "message"}` frame, greeted to each board that
// connects, and taken down by itself at its `until`.
import type { IngestService } from '../ingest/service.js';
import type { BoardMessage, BoardMessageMessage } from '../live/protocol.js';
import type { BoardMessageRow } from '../store/notices.js';
import type { NoticeReads } from '../store/ports.js';

/** What the board socket's hub offers for frames outside the numbered deltas. */
export interface MessageSink {
  post(message: object): void;
  greet(frame: () => object | null): void;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class BoardMessages {
  private readonly store: NoticeReads;
  private expiry: NodeJS.Timeout | null = null;
  /** The standing row, read at start and after each change: a thousand boards reconnecting read no table. */
  private row: BoardMessageRow | undefined;

  private follow: NodeJS.Timeout | null = null;

  /**
   * `followMs`: several instances on one database (PostgreSQL): the standing message is read again this
   * often, so one posted or taken down through another instance reaches this instance's boards too.
   */
  constructor(
    private readonly service: IngestService,
    private readonly sink: MessageSink | null,
    private readonly options: { followMs?: number } = {},
  ) {
    this.store = service.stores.notices;
    sink?.greet(() => this.frame());
  }

  /** Reads the message standing now (before the app listens) and arms its end. */
  async load(): Promise<void> {
    this.row = await this.store.message();
    this.arm();
    if (this.options.followMs !== undefined && this.follow === null) {
      this.follow = setInterval(() => void this.refresh().catch(() => {}), this.options.followMs);
      this.follow.unref();
    }
  }

  /** The standing row read again: pushed to the boards only when another instance changed it. */
  private async refresh(): Promise<void> {
    const r = await this.store.message();
    if (JSON.stringify(r ?? null) === JSON.stringify(this.row ?? null)) return;
    this.row = r;
    this.sink?.post(this.frame());
    this.arm();
  }

  private view(r: BoardMessageRow): BoardMessage {
    return { id: r.id, text: r.text, by: r.by, at: iso(r.at), until: r.until === null ? null : iso(r.until) };
  }

  /** The message standing now, or null (none, taken down, or past its `until`). */
  current(now = this.service.now()): BoardMessage | null {
    const r = this.row;
    return r === undefined || (r.until !== null && r.until <= now) ? null : this.view(r);
  }

  frame(): BoardMessageMessage {
    return { type: 'message', message: this.current() };
  }

  async post(text: string, until: number | null, actor: string): Promise<BoardMessage> {
    await this.service.writer.run('board-message', { now: this.service.now(), actor, text, until });
    await this.push();
    return this.current()!;
  }

  async end(actor: string): Promise<boolean> {
    const { ended } = await this.service.writer.run('board-message', { now: this.service.now(), actor, text: null, until: null });
    await this.push();
    return ended;
  }

  private async push(): Promise<void> {
    this.row = await this.store.message();
    this.sink?.post(this.frame());
    this.arm();
  }

  /** A timer for the standing message's `until`: the boards are told when it lapses. */
  private arm(): void {
    if (this.expiry !== null) clearTimeout(this.expiry);
    this.expiry = null;
    const r = this.row;
    if (r?.until == null) return;
    const wait = r.until - this.service.now();
    if (wait <= 0) return;
    this.expiry = setTimeout(() => void this.push().catch(() => {}), Math.min(wait + 50, 2 ** 31 - 1));
    this.expiry.unref();
  }

  stop(): void {
    if (this.expiry !== null) clearTimeout(this.expiry);
    if (this.follow !== null) clearInterval(this.follow);
  }
}

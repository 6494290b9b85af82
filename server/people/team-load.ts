// The team's load (GET /api/v1/team): each assignee's contacts with an open clock, and how many of
// them are breached or at risk now. Kept in memory and updated from the service's changes, so the
// page costs a walk of the open contacts in memory (~100,000 on a bad day) instead of a join of
// every open clock with its contact on every request (235 ms on a year of data, issue 10). The first
// read goes through the store's asynchronous port (issue 14): changes heard while it is under way are
// kept and applied, in order, once it lands, so none is lost between the read and the first change.
import type { ContactChange } from '../commands/context.js';
import type { AdvisorLoad, OpenClockOwner } from '../store/queue.js';

/** The statuses of a clock still open (the store's `open` column says the same). */
const OPEN = new Set(['running', 'at-risk', 'breached', 'paused']);

interface OpenClock {
  paused: boolean;
  dueAt: number | null;
  atRiskAt: number | null;
}

type OpenByContact = Map<string, { assignee: string | null; clocks: OpenClock[] }>;

export class TeamLoad {
  /** Contact id → its assignee and open clocks; loaded from the store on first use. */
  #open: OpenByContact | null = null;
  /** The first read, while it is under way (every caller meanwhile waits for the same one). */
  #loading: Promise<OpenByContact> | null = null;
  /** Changes heard while the first read is under way: applied after it, in the order heard. */
  #heard: Array<readonly ContactChange[]> | null = null;

  constructor(private readonly readOpen: () => Promise<OpenClockOwner[]>) {}

  /** A commit's changes (the service's onChange): each contact's open clocks and owner as they are now. */
  apply(changes: readonly ContactChange[]): void {
    const open = this.#open;
    if (open === null) {
      // Being read: the read may have been answered before these were committed, so they are kept
      // (a change the read already holds, applied again, leaves the contact as it was). Not loaded
      // at all: the first read takes everything from the store, these included.
      this.#heard?.push(changes);
      return;
    }
    for (const ch of changes) {
      const clocks = ch.clocks.filter((c) => OPEN.has(c.status)).map((c) => ({ paused: c.status === 'paused', dueAt: c.dueAt, atRiskAt: c.atRiskAt }));
      if (clocks.length === 0) open.delete(ch.contactId);
      else open.set(ch.contactId, { assignee: ch.contact.assignee, clocks });
    }
  }

  /**
   * Each assignee's load as of `now` (null: the unassigned work), a contact counted once in its worst
   * state: breached (a running clock past due), else at risk (a running clock past its at-risk instant).
   */
  async load(now: number): Promise<AdvisorLoad[]> {
    const open = this.#open ?? (await (this.#loading ??= this.#read()));
    const by = new Map<string | null, AdvisorLoad>();
    for (const { assignee, clocks } of open.values()) {
      let l = by.get(assignee);
      if (l === undefined) by.set(assignee, (l = { assignee, open: 0, atRisk: 0, breached: 0 }));
      l.open++;
      let breached = false;
      let atRisk = false;
      for (const c of clocks) {
        if (c.paused || c.dueAt === null) continue;
        if (c.dueAt < now) breached = true;
        else if (c.atRiskAt !== null && c.atRiskAt <= now) atRisk = true;
      }
      if (breached) l.breached++;
      else if (atRisk) l.atRisk++;
    }
    return [...by.values()];
  }

  async #read(): Promise<OpenByContact> {
    this.#heard = [];
    try {
      const open: OpenByContact = new Map();
      for (const r of await this.readOpen()) {
        let e = open.get(r.contactId);
        if (e === undefined) open.set(r.contactId, (e = { assignee: r.assignee, clocks: [] }));
        e.clocks.push({ paused: r.status === 'paused', dueAt: r.dueAt, atRiskAt: r.atRiskAt });
      }
      this.#open = open;
      for (const changes of this.#heard) this.apply(changes);
      return open;
    } finally {
      // A failed read is tried again by the next caller.
      this.#heard = null;
      this.#loading = null;
    }
  }
}

// The phone figures the live board polls (issue 13): GET /api/v1/staffing and GET /api/v1/advisors
// every 30 s (both allow a display credential and a team lead's or manager's session). Staffing reads
// the day's call ledger, so it is polled rather than pushed with every delta. A role that may not
// read them (403), or a server without them, leaves both null: the board shows the queues' waiting
// calls only.
import { api } from './api.js';
import type { AdvisorsReply, StaffingReply } from './phone-queues.js';

export const STAFFING_POLL_MS = 30_000;

export class PhoneStaffing {
  #staffing = $state<StaffingReply | null>(null);
  #advisors = $state<AdvisorsReply | null>(null);
  #timer: ReturnType<typeof setInterval> | undefined;
  #refused = false;

  get staffing(): StaffingReply | null {
    return this.#staffing;
  }

  get advisors(): AdvisorsReply | null {
    return this.#advisors;
  }

  start(): void {
    void this.read();
    this.#timer = setInterval(() => void this.read(), STAFFING_POLL_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async read(): Promise<void> {
    if (this.#refused) return;
    const [staffing, advisors] = await Promise.allSettled([api<StaffingReply>('GET', '/api/v1/staffing'), api<AdvisorsReply>('GET', '/api/v1/advisors')]);
    // Not allowed (an advisor's session): stop asking. Any other failure keeps the last figures until the next poll.
    const refused = (r: PromiseSettledResult<unknown>) => r.status === 'rejected' && (r.reason as { status?: number }).status === 403;
    if (refused(staffing) || refused(advisors)) {
      this.#refused = true;
      this.stop();
    }
    if (staffing.status === 'fulfilled') this.#staffing = staffing.value;
    if (advisors.status === 'fulfilled') this.#advisors = advisors.value;
  }
}

// The alert evaluator (issue 11): every KEPT_ALERT_CHECK_SECONDS, and a second after contacts change,
// it observes the live state — calls waiting and the oldest wait (the live service's public status),
// the last 30 minutes' phone service level (today's calls read by key), promises broken since the last
// look (open clocks whose due instant passed: a range of `clocks_open_due`, plus contacts that arrived
// already breached), safeguarding flags raised since the last look (the `alerts` key) — and runs each
// rule's step (rules.ts). What a rule sends goes by email (server/notify/mail.ts), Teams and Slack
// (webhooks.ts), and is recorded (`alert_sends`). It reads the live service; it changes nothing in it.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { phoneStats } from '../domain/metrics.js';
import { packInForce } from '../domain/standards.js';
import type { ContactChange, IngestService } from '../ingest/service.js';
import { impliedChannels, type LiveService } from '../live/live.js';
import { packTargets } from '../live/site.js';
import { createMailer, type Mailer } from '../notify/mail.js';
import type { AlertRule } from '../store/alerts.js';
import type { AlertReads, LiveReads } from '../store/ports.js';
import { MIN_CALLS_FOR_LEVEL, newState, step, type EventSeen, type Observation, type RuleState } from './rules.js';
import { postWebhook, slackPayload, teamsPayload, type AlertMessage } from './webhooks.js';

export interface AlertServiceOptions {
  service: IngestService;
  live: LiveService;
  config: Config;
  log: FastifyBaseLogger;
  /**
   * Whether this instance sends the alerts now (PostgreSQL: the timers' leader only, so N instances
   * send once). Absent: always.
   */
  sends?: () => boolean;
}

/** One alert sent (or tried): what evaluateNow answers, for the tests and the log. */
export interface AlertSent {
  ruleId: number;
  keys: string[];
  title: string;
  outcome: Record<string, string>;
}

const HALF_HOUR = 30 * 60_000;

export class AlertService {
  private readonly store: AlertReads;
  private readonly liveStore: LiveReads;
  private readonly mailer: Mailer | null;
  private readonly states = new Map<string, RuleState>();
  private readonly startedAt: number;
  private lastLook: number;
  private lastFlagId = 0;
  /** Breached clocks heard in contact changes since the last look. */
  private heard: EventSeen[] = [];
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private running: Promise<AlertSent[]> = Promise.resolve([]);
  private unsubscribe: (() => void) | null = null;
  private readonly zone: string;

  constructor(private readonly o: AlertServiceOptions) {
    this.store = o.service.stores.alerts;
    this.liveStore = o.service.stores.live(impliedChannels());
    this.mailer = createMailer(o.config);
    this.startedAt = o.service.now();
    this.lastLook = this.startedAt;
    this.zone = o.service.calendars[o.config.boardCalendar]?.timeZone ?? 'Europe/London';
  }

  async start(): Promise<void> {
    this.lastFlagId = await this.store.lastFlagId();
    this.unsubscribe = this.o.service.onChange((changes) => this.onChanges(changes));
    this.timer = setInterval(() => void this.evaluateSafely(), this.o.config.alertCheckSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.timer !== null) clearInterval(this.timer);
    if (this.soon !== null) clearTimeout(this.soon);
    this.mailer?.close();
  }

  private onChanges(changes: ContactChange[]): void {
    for (const ch of changes) {
      for (const c of ch.clocks) {
        // A promise broken while Kept watched, or a contact that arrived already past its promise.
        if (c.status !== 'breached' || c.dueAt === null) continue;
        if (c.dueAt <= this.startedAt && ch.contact.createdAt < this.startedAt) continue;
        this.heard.push(this.breachSeen(ch.contactId, c.standard, c.dueAt, ch.contact.channel, ch.contact.category));
      }
    }
    if (this.heard.length > 0 && this.soon === null) {
      this.soon = setTimeout(() => {
        this.soon = null;
        void this.evaluateSafely();
      }, 1000);
      this.soon.unref();
    }
  }

  private time(ms: number): string {
    return new Intl.DateTimeFormat('en-GB', { timeZone: this.zone, hour: '2-digit', minute: '2-digit' }).format(ms);
  }

  private title(standard: string, now: number): string {
    return packInForce(this.o.service.packFamily, now).standards.find((s) => s.id === standard)?.title ?? standard;
  }

  private breachSeen(contactId: string, standard: string, dueAt: number, channel: string, category: string): EventSeen {
    return { key: `breach:${contactId}/${standard}`, standard, line: `${this.title(standard, dueAt)} — ${channel}, ${category}, due ${this.time(dueAt)} (contact ${contactId})` };
  }

  /** What the rules look at now. */
  async observe(now: number): Promise<Observation> {
    const status = this.o.live.publicStatus(now);
    const targetMs = packTargets(packInForce(this.o.service.packFamily, now)).phoneTargetMs ?? 300_000;
    const stats = phoneStats(await this.liveStore.callsSince(now - HALF_HOUR), now, targetMs);
    const breaches = [...this.heard, ...(await this.store.dueBetween(this.lastLook, now)).map((d) => this.breachSeen(d.contactId, d.standard, d.dueAt, d.channel, d.category))];
    const flags = (await this.store.flagsAfter(this.lastFlagId)).map((f) => ({ key: `flag:${f.id}`, line: `Safeguarding flag raised ${this.time(f.raisedAt)} (contact ${f.contactId})` }));
    return {
      now,
      callsWaiting: status.callsWaiting,
      oldestWaitSeconds: status.longestWaitSeconds,
      serviceLevel30: stats.offered >= MIN_CALLS_FOR_LEVEL ? stats.serviceLevel : null,
      calls30: stats.offered,
      breaches,
      flags,
    };
  }

  /** The timers' evaluation: a fault (the database unavailable) is logged, and the next look tries again. */
  private async evaluateSafely(): Promise<void> {
    try {
      await this.evaluateNow();
    } catch (e) {
      this.o.log.warn({ err: { message: (e as Error).message } }, 'alerts: evaluation failed; trying again at the next look');
    }
  }

  /** Observes once and runs every rule; runs one at a time (a call while one runs waits for it). */
  evaluateNow(): Promise<AlertSent[]> {
    this.running = this.running.then(
      () => this.evaluate(),
      () => this.evaluate(),
    );
    return this.running;
  }

  private async evaluate(): Promise<AlertSent[]> {
    if (!this.o.live.armed) return [];
    const now = this.o.service.now();
    if (this.o.sends?.() === false) {
      // Another instance sends: what was heard is its to send (a leader elected later starts from here).
      this.heard = [];
      this.lastLook = now;
      return [];
    }
    let o: Observation;
    try {
      o = await this.observe(now);
    } catch (e) {
      this.o.log.warn({ err: { message: (e as Error).message } }, 'alerts: could not read the live state');
      return [];
    }
    this.lastLook = now;
    this.heard = [];
    const last = o.flags.at(-1);
    if (last !== undefined) this.lastFlagId = Number(last.key.slice('flag:'.length));
    const sent: AlertSent[] = [];
    const rules = await this.store.rules();
    // A rule's state lives as long as the rule as it stands: an edit starts afresh (its quiet period and
    // the events already sent still hold, read back from its sends), a deleted rule's state goes.
    const version = (r: AlertRule) => `${r.id}@${r.updatedAt}`;
    const current = new Set(rules.map(version));
    for (const key of this.states.keys()) if (!current.has(key)) this.states.delete(key);
    for (const rule of rules) {
      let state = this.states.get(version(rule));
      if (state === undefined) {
        // Across a restart or an edit: the quiet period and the events already sent hold (the latest sends' keys).
        state = newState(await this.store.lastSend(rule.id), (await this.store.sendsOf(rule.id, 200)).flatMap((s) => s.keys));
        this.states.set(version(rule), state);
      }
      const decision = step(rule, state, o);
      if (decision === null) continue;
      const link = this.o.config.publicUrl === '' ? null : `${this.o.config.publicUrl}/`;
      sent.push(await this.send(rule, { title: decision.title, lines: decision.lines, link }, decision.keys, now));
    }
    return sent;
  }

  /** Sends one alert on every channel the rule names, at once; records the outcome. */
  async send(rule: AlertRule, m: AlertMessage, keys: string[], now: number): Promise<AlertSent> {
    const jobs: Array<Promise<[string, string]>> = [];
    if (rule.emails.length > 0) {
      const mailer = this.mailer;
      jobs.push(
        mailer === null
          ? Promise.resolve(['email', 'not sent: no SMTP server (KEPT_SMTP_HOST)'])
          : mailer
              .send({ to: rule.emails, subject: m.title, text: [...m.lines, ...(m.link !== null ? ['', `Open Kept: ${m.link}`] : [])].join('\n') })
              .then(
                () => ['email', 'sent'] as [string, string],
                (e: unknown) => ['email', `failed: ${(e as { code?: string }).code ?? 'SMTP error'}`] as [string, string],
              ),
      );
    }
    if (rule.teamsUrl !== null) jobs.push(postWebhook(rule.teamsUrl, teamsPayload(m)).then((r) => ['teams', r]));
    if (rule.slackUrl !== null) jobs.push(postWebhook(rule.slackUrl, slackPayload(m)).then((r) => ['slack', r]));
    const outcome = Object.fromEntries(await Promise.all(jobs));
    try {
      await this.o.service.writer.run('record-alert-send', { now, ruleId: rule.id, keys, subject: m.title, outcome });
    } catch (e) {
      this.o.log.warn({ err: { message: (e as Error).message }, alertRule: rule.id }, 'alerts: the send could not be recorded');
    }
    // The outcome names channels and reasons only: never an address or a recipient.
    this.o.log.info({ alertRule: rule.id, events: keys.length, outcome }, 'alert sent');
    return { ruleId: rule.id, keys, title: m.title, outcome };
  }
}

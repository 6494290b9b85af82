// Command: publish a week's report, or publish it again (regenerate), as a new stored revision;
// audited with who asked, why, and (on regenerating) what changed. The report is built on the read
// side (server/reports/service.ts) and crosses to the writer as its JSON text.
import { ConflictError, NotFoundError } from '../errors.js';
import { reportChanges } from '../reports/diff.js';
import type { ReportChange, WeeklyReport } from '../reports/types.js';
import type { PublishedRow } from '../store/reports.js';
import type { CommandContext } from './context.js';

export interface PublishReportInput {
  now: number;
  week: string;
  actor: string;
  /** `publish`: the first publication (409 if the week is published); `regenerate`: a new revision of a published week (404 if none). */
  mode: 'publish' | 'regenerate';
  reason: string | null;
  /** The report's JSON (publication state not yet set). */
  report: string;
}

export interface PublishReportOutput {
  week: string;
  revision: number;
  publishedAt: number;
  publishedBy: string;
  reason: string | null;
  /** The stored JSON, its publication state set. */
  report: string;
  /** On regenerating: what differs from the revision before (capped; `changeCount` is the whole count). */
  changes: ReportChange[];
  changeCount: number;
}

/** Changes kept in the audit entry and the answer. */
export const MAX_CHANGES = 500;

export function publishReport(ctx: CommandContext, c: PublishReportInput): PublishReportOutput {
  const p = publication(ctx.published.published(c.week), c);
  ctx.published.add(p.row);
  ctx.audit.record(c.now, c.actor, p.audit.action, p.audit.detail);
  return p.output;
}

/**
 * The pure step: from the week's newest stored revision (or null), the row to insert, its audit entry
 * and the answer; the refusals (409 already published, 404 not yet published) as errors.
 */
export function publication(previous: PublishedRow | null, c: PublishReportInput): { row: PublishedRow; audit: { action: string; detail: Record<string, unknown> }; output: PublishReportOutput } {
  if (c.mode === 'publish' && previous !== null) {
    throw new ConflictError(`${c.week} is already published (revision ${previous.revision}, ${new Date(previous.publishedAt).toISOString()}, by ${previous.publishedBy}): regenerate it to publish it again`, 'week');
  }
  if (c.mode === 'regenerate' && previous === null) throw new NotFoundError(`${c.week} has not been published: publish it first`, 'week');
  const revision = (previous?.revision ?? 0) + 1;
  const report = JSON.parse(c.report) as WeeklyReport;
  report.publication = { state: revision === 1 ? 'published' : 'regenerated', publishedAt: new Date(c.now).toISOString(), publishedBy: c.actor, revision };
  const all = previous === null ? [] : reportChanges(JSON.parse(previous.report) as WeeklyReport, report);
  const changes = all.slice(0, MAX_CHANGES);
  const text = JSON.stringify(report);
  return {
    row: { week: c.week, revision, publishedAt: c.now, publishedBy: c.actor, reason: c.reason, report: text },
    audit: {
      action: c.mode === 'publish' ? 'report.publish' : 'report.regenerate',
      detail: { week: c.week, revision, reason: c.reason, builtAt: report.builtAt, ...(c.mode === 'regenerate' ? { changeCount: all.length, changes } : {}) },
    },
    output: { week: c.week, revision, publishedAt: c.now, publishedBy: c.actor, reason: c.reason, report: text, changes, changeCount: all.length },
  };
}

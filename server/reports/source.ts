// What the report's builders (weekly.ts, contacts.ts, hazards.ts, regulator.ts) read from: the report
// store's reads, answered now or later. The server hands them its port (server/store/stores.ts
// `reports(shape)`: SQLite through asyncOf, or PostgreSQL); a tool or a test may hand them the SQLite
// ReportStore itself, whose answers come back at once. The builders await every read either way.
import type { REPORT_READS } from '../store/ports.js';
import type { ReportStore } from '../store/reports.js';

type ReportRead = (typeof REPORT_READS)[number];

export type ReportSource = {
  [K in ReportRead]: (...args: Parameters<ReportStore[K]>) => ReturnType<ReportStore[K]> | Promise<ReturnType<ReportStore[K]>>;
};

// CPU time as the benchmark counts it: this process's (process.cpuUsage) and the PostgreSQL
// backends serving one database (their /proc/<pid>/stat utime + stime, the server being on this
// machine). CPU time grows far less than wall time when the machine is shared, so it says what a
// contact costs even when the contacts/s say mostly how busy the machine was.
import { readFileSync } from 'node:fs';
import type pg from 'pg';

const TICK_MS = 10; // CLK_TCK = 100 on Linux

/** ms of CPU used by the backends now connected to the pool's database, by pid. */
export async function backendCpu(pool: pg.Pool): Promise<Map<number, number>> {
  const r = await pool.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  const out = new Map<number, number>();
  for (const { pid } of r.rows as Array<{ pid: number }>) {
    try {
      // Fields after the command name (which may hold spaces, inside parentheses): utime is the 14th field, stime the 15th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_MS);
    } catch {
      // ended meanwhile, or the server is elsewhere: not counted
    }
  }
  return out;
}

/** CPU ms the backends used between two readings (one that came and went between them is not counted). */
export function backendCpuUsed(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0;
  for (const [pid, t] of after) ms += t - (before.get(pid) ?? 0); // a backend new since: all its time was in between
  return ms;
}

/** This process's CPU ms since `since`. */
export function processCpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

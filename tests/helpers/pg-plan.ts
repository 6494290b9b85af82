// PostgreSQL's plan of a statement, for the tests that hold the stores to keyed, ordered walks: the
// plan as JSON (EXPLAIN without ANALYZE: nothing runs), its nodes flattened with whether each lies in
// a subplan (a correlated lookup, run per row of the walk), and one line per node for a failure's message.
import type pg from 'pg';
import type { PgStatement } from '../../server/store/pg/contacts.js';

export interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  'Scan Direction'?: string;
  'Parent Relationship'?: string;
  'Subplan Name'?: string;
  Plans?: PlanNode[];
}

export async function explainPlan(pool: Pick<pg.Pool, 'query'>, st: PgStatement): Promise<PlanNode> {
  const r = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${st.sql}`, st.params);
  return r.rows[0]!['QUERY PLAN'][0]!.Plan;
}

export function planNodes(n: PlanNode, inSubPlan = false, out: Array<{ node: PlanNode; inSubPlan: boolean }> = []): Array<{ node: PlanNode; inSubPlan: boolean }> {
  out.push({ node: n, inSubPlan });
  for (const c of n.Plans ?? []) planNodes(c, inSubPlan || c['Parent Relationship'] === 'SubPlan', out);
  return out;
}

export const showPlan = (n: PlanNode): string =>
  planNodes(n)
    .map(({ node }) => `${node['Node Type']} ${node['Index Name'] ?? node['Relation Name'] ?? ''} ${node['Index Cond'] ?? ''}`)
    .join('\n');

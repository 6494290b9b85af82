// Integration API tokens on PostgreSQL (issue 14): TokenStorePort with the SQLite TokenStore's answers
// (server/store/tokens.ts: the same names, hashes and messages). Many instances share the table, so
// what one process's connection settled there is decided here by the database: a name is taken by
// the unique index, and a token verified from memory is trusted for at most RECHECK_MS after another
// instance revokes it (the table's stamp, read at most that often, empties the memory when it moved).
import { checkTokenName, hashToken, newToken, RECHECK_MS, toTokenInfo, tokenTaken, VerifiedTokens, type TokenInfo, type TokenRow } from '../tokens.js';
import type { TokenStorePort } from '../ports.js';
import type { Queryable } from './contacts.js';

/**
 * What changes with every write to api_tokens: the live tokens' count (a revocation lowers it) and
 * the highest id (every create takes a new one from the identity; a create's delete of a revoked row
 * never lowers it, the new row being above).
 */
const STAMP = "SELECT count(*) FILTER (WHERE revoked_at IS NULL) || ':' || coalesce(max(id), 0) AS stamp FROM api_tokens";

export class PgTokenStore implements TokenStorePort {
  private readonly verified = new VerifiedTokens();
  private stamp: string | undefined;
  private checkedAt = -Infinity;
  private pending: Promise<void> | undefined;

  constructor(private readonly db: Queryable) {}

  /** Creates a token named `name`; returns the token (never stored in clear). A live token of that name, here or written by another instance at the same moment, refuses it. */
  async create(name: string, now: number): Promise<string> {
    checkTokenName(name);
    // A revoked token's name is free again: its row goes (a live one is never touched).
    await this.db.query('DELETE FROM api_tokens WHERE name = $1 AND revoked_at IS NOT NULL', [name]);
    const token = newToken();
    // NOT EXISTS first: a refused name takes no id (the stamp moves only with a write); ON CONFLICT for the race.
    const { rowCount } = await this.db.query(
      'INSERT INTO api_tokens (name, token_hash, created_at) SELECT $1, $2, $3::bigint WHERE NOT EXISTS (SELECT 1 FROM api_tokens WHERE name = $1) ON CONFLICT (name) DO NOTHING',
      [name, hashToken(token), now],
    );
    if (rowCount === 0) throw tokenTaken(name);
    return token;
  }

  async list(): Promise<TokenInfo[]> {
    // COLLATE "C": SQLite's order (bytewise), whatever the database's collation.
    const { rows } = await this.db.query<TokenRow>('SELECT name, created_at, revoked_at FROM api_tokens ORDER BY name COLLATE "C"');
    return rows.map(toTokenInfo);
  }

  async revoke(name: string, now: number): Promise<boolean> {
    this.verified.clear();
    const { rowCount } = await this.db.query('UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL', [now, name]);
    return (rowCount ?? 0) > 0;
  }

  /** The token's name when it is valid, else undefined (remembered as the SQLite store does; see the file's head). */
  async verify(token: string): Promise<string | undefined> {
    await this.recheck();
    const known = this.verified.get(token);
    if (known !== undefined) return known;
    const generation = this.verified.generation;
    const { rows } = await this.db.query<{ name: string }>('SELECT name FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL', [hashToken(token)]);
    const name = rows[0]?.name;
    if (name !== undefined) this.verified.remember(token, name, generation);
    return name;
  }

  /** At most every RECHECK_MS, one read of the table's stamp (concurrent callers share it); the memory is emptied when it moved. */
  private recheck(): Promise<void> {
    const t = performance.now();
    if (this.pending === undefined && t - this.checkedAt >= RECHECK_MS) {
      this.checkedAt = t;
      this.pending = this.db
        .query<{ stamp: string }>(STAMP)
        .then(({ rows }) => {
          if (rows[0]!.stamp !== this.stamp) {
            this.stamp = rows[0]!.stamp;
            this.verified.clear();
          }
        })
        .finally(() => {
          this.pending = undefined;
        });
    }
    return this.pending ?? Promise.resolve();
  }
}

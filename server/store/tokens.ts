// Integration API tokens: stored as SHA-256 hashes; the token itself is shown once.
import { createHash, randomBytes } from 'node:crypto';
import type { Sqlite } from '../../db/connection.js';

export interface TokenInfo {
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Throws unless `name` can name a token. */
export function checkTokenName(name: string): void {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new Error(`token name "${name}": use 1–64 letters, digits, dot, dash or underscore`);
}

/** The answer to a create when a live token already has the name. */
export function tokenTaken(name: string): Error {
  return new Error(`a token named "${name}" already exists (revoke it first)`);
}

/** A new token in clear text (shown once; only its hash is stored). */
export function newToken(): string {
  return `kept_${randomBytes(24).toString('base64url')}`;
}

export type TokenRow = { name: string; created_at: number; revoked_at: number | null };

export function toTokenInfo(r: TokenRow): TokenInfo {
  return { name: r.name, createdAt: r.created_at, revokedAt: r.revoked_at };
}

/** How long a verified token is trusted without looking at the database again (a revocation by another process shows within this). */
export const RECHECK_MS = 250;
const CACHE_MAX = 1024;

/**
 * Verified tokens (clear text, in memory only) → name, at most CACHE_MAX. `generation` moves on at
 * every clear, so a lookup that began before a clear (a revocation) is not remembered after it.
 */
export class VerifiedTokens {
  private readonly names = new Map<string, string>();
  generation = 0;

  get(token: string): string | undefined {
    return this.names.get(token);
  }

  /** Remembers a lookup's answer, unless the cache was cleared since the lookup began (`generation`). */
  remember(token: string, name: string, generation = this.generation): void {
    if (generation !== this.generation) return;
    if (this.names.size >= CACHE_MAX) this.names.clear();
    this.names.set(token, name);
  }

  clear(): void {
    this.names.clear();
    this.generation++;
  }
}

export class TokenStore {
  private readonly lookup;
  private readonly dataVersion;
  /** Emptied when another connection changes the file. */
  private readonly verified = new VerifiedTokens();
  private version = -1;
  private checkedAt = -Infinity;

  constructor(private readonly sqlite: Sqlite) {
    this.lookup = sqlite.prepare<[string], { name: string }>('SELECT name FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL');
    this.dataVersion = sqlite.prepare<[], number>('PRAGMA data_version').pluck();
  }

  /** Creates a token named `name`; returns the token (never stored in clear). */
  create(name: string, now: number): string {
    checkTokenName(name);
    const existing = this.sqlite.prepare('SELECT revoked_at FROM api_tokens WHERE name = ?').get(name) as { revoked_at: number | null } | undefined;
    if (existing !== undefined && existing.revoked_at === null) throw tokenTaken(name);
    if (existing !== undefined) this.sqlite.prepare('DELETE FROM api_tokens WHERE name = ?').run(name);
    const token = newToken();
    this.sqlite.prepare('INSERT INTO api_tokens (name, token_hash, created_at) VALUES (?, ?, ?)').run(name, hashToken(token), now);
    return token;
  }

  list(): TokenInfo[] {
    return (this.sqlite.prepare('SELECT name, created_at, revoked_at FROM api_tokens ORDER BY name').all() as TokenRow[]).map(toTokenInfo);
  }

  revoke(name: string, now: number): boolean {
    this.verified.clear();
    return this.sqlite.prepare('UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(now, name).changes > 0;
  }

  /**
   * The token's name when it is valid, else undefined. Valid tokens are remembered; the cache is
   * dropped when this process revokes a token, and when `PRAGMA data_version` shows that another
   * connection (the `sla token` command) changed the file, checked at most every 250 ms.
   */
  verify(token: string): string | undefined {
    const t = performance.now();
    if (t - this.checkedAt >= RECHECK_MS) {
      this.checkedAt = t;
      const v = this.dataVersion.get()!;
      if (v !== this.version) {
        this.version = v;
        this.verified.clear();
      }
    }
    const known = this.verified.get(token);
    if (known !== undefined) return known;
    const name = this.lookup.get(hashToken(token))?.name;
    if (name !== undefined) this.verified.remember(token, name);
    return name;
  }
}

// People (users), their sessions and the wall-screen displays. These small writes (a sign-in, a
// password change, an admin's edit) go straight to the main connection, as TokenStore's do: they
// touch no contact, clock or calendar, need no recompute, and are single-row statements that
// SQLite commits in well under a millisecond; the writer thread exists for the contact writes whose
// transactions recompute clocks and fsync in groups. Session ids and display secrets are stored as
// SHA-256 hashes only.
import { createHash, randomBytes } from 'node:crypto';
import type { Sqlite } from '../../db/connection.js';
import { ROLES, type Role } from '../people/roles.js';

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
  mustChangePassword: boolean;
  /** The routes or categories an advisor works (their queues' unassigned contacts are theirs to take). */
  queues: string[];
  disabled: boolean;
  lockedUntil: number | null;
  createdAt: number;
}

export interface UserWithHash extends User {
  passwordHash: string;
  failedSignins: number;
}

export interface SessionInfo {
  id: number;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface Display {
  id: number;
  name: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

export interface UserRow {
  id: number;
  email: string;
  name: string;
  role: string;
  password_hash: string;
  must_change_password: number;
  queues: string;
  disabled_at: number | null;
  failed_signins: number;
  locked_until: number | null;
  created_at: number;
}

/** How session ids and display secrets are stored. */
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function toUser(r: UserRow): UserWithHash {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role as Role,
    mustChangePassword: r.must_change_password === 1,
    queues: JSON.parse(r.queues) as string[],
    disabled: r.disabled_at !== null,
    lockedUntil: r.locked_until,
    createdAt: r.created_at,
    passwordHash: r.password_hash,
    failedSignins: r.failed_signins,
  };
}

export function publicUser(u: UserWithHash | User): User {
  const { id, email, name, role, mustChangePassword, queues, disabled, lockedUntil, createdAt } = u;
  return { id, email, name, role, mustChangePassword, queues, disabled, lockedUntil, createdAt };
}

export class PeopleError extends Error {}

/** Lower-cased and trimmed; a plain shape check (the address is a sign-in name, not mailed by Kept). */
export function normaliseEmail(email: string): string {
  const e = email.trim().toLowerCase();
  if (e.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(e)) throw new PeopleError(`"${email.slice(0, 60)}" is not an email address`);
  return e;
}

export function checkRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) throw new PeopleError(`role "${role.slice(0, 40)}": one of ${ROLES.join(', ')}`);
  return role as Role;
}

export function checkQueues(queues: readonly string[]): string[] {
  const out = [...new Set(queues.map((q) => q.trim()).filter((q) => q !== ''))];
  for (const q of out) if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(q)) throw new PeopleError(`queue "${q.slice(0, 40)}": a route or category name (lower-case letters, digits, dashes)`);
  return out;
}

/** A person's or a display's name: trimmed, 1–100 characters. */
export function checkName(name: string): string {
  const n = name.trim();
  if (n === '' || n.length > 100) throw new PeopleError('name: 1–100 characters');
  return n;
}

export interface NewUser {
  email: string;
  name: string;
  role: string;
  queues?: readonly string[];
  passwordHash: string;
}

/** A new user's fields, checked, in the order the SQLite store checks them. */
export function newUserFields(input: NewUser): { email: string; role: Role; name: string; queues: string[] } {
  const email = normaliseEmail(input.email);
  const role = checkRole(input.role);
  const name = checkName(input.name);
  return { email, role, name, queues: checkQueues(input.queues ?? []) };
}

/** The answer to a create whose email another user has. */
export function userTaken(email: string): PeopleError {
  return new PeopleError(`a user ${email} already exists`);
}

/** A cookie's secret or a display's: only a value of a plausible length is looked up. */
export function plausibleSecret(secret: string): boolean {
  return secret.length >= 20 && secret.length <= 100;
}

export const newSessionSecret = (): string => randomBytes(32).toString('base64url');
export const newDisplaySecret = (): string => `kd_${randomBytes(32).toString('base64url')}`;

export type SessionRow = { id: number; created_at: number; last_seen_at: number; expires_at: number; revoked_at: number | null };

export function toSessionInfo(r: SessionRow): SessionInfo {
  return { id: r.id, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at, revokedAt: r.revoked_at };
}

export type DisplayRow = { id: number; name: string; created_at: number; created_by: string; revoked_at: number | null };

export function toDisplay(r: DisplayRow): Display {
  return { id: r.id, name: r.name, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at };
}

/** A session's row joined to its user's, as `session()` reads it. */
export type SessionUserRow = UserRow & { sid: number; last_seen_at: number; expires_at: number; revoked_at: number | null };

/** `last_seen_at` is written at most this often (the idle limit slides with it). */
export const SLIDE_MS = 60_000;

/**
 * A session row judged at `now`: `none` (unknown, revoked, past its absolute end, idle longer than
 * allowed, or its user disabled), `live`, or `slide` (live, and `last_seen_at` is to be moved to now).
 */
export function judgeSession(row: SessionUserRow | undefined, lifetimes: SessionLifetimes, now: number): 'none' | 'live' | 'slide' {
  if (row === undefined || row.revoked_at !== null || row.disabled_at !== null) return 'none';
  if (now >= row.expires_at || now - row.last_seen_at >= lifetimes.idleMs) return 'none';
  return now - row.last_seen_at >= SLIDE_MS ? 'slide' : 'live';
}

export interface SessionLifetimes {
  idleMs: number;
  absoluteMs: number;
}

/** A session found by its cookie, with its user. */
export interface ActiveSession {
  sessionId: number;
  user: UserWithHash;
}

export class PeopleStore {
  constructor(private readonly sqlite: Sqlite) {}

  // ---- users ----

  create(input: NewUser, now: number): User {
    const { email, role, name, queues } = newUserFields(input);
    if (this.byEmail(email) !== undefined) throw userTaken(email);
    const id = this.sqlite
      .prepare('INSERT INTO users (email, name, role, password_hash, must_change_password, queues, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?)')
      .run(email, name, role, input.passwordHash, JSON.stringify(queues), now, now).lastInsertRowid;
    return publicUser(this.byId(Number(id))!);
  }

  byEmail(email: string): UserWithHash | undefined {
    const row = this.sqlite.prepare('SELECT * FROM users WHERE email = ?').get(email.trim().toLowerCase()) as UserRow | undefined;
    return row === undefined ? undefined : toUser(row);
  }

  byId(id: number): UserWithHash | undefined {
    const row = this.sqlite.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row === undefined ? undefined : toUser(row);
  }

  list(): User[] {
    return (this.sqlite.prepare('SELECT * FROM users ORDER BY email').all() as UserRow[]).map((r) => publicUser(toUser(r)));
  }

  /** Disables the account and ends its sessions. False when there is no such user. */
  disable(id: number, now: number): boolean {
    const changed = this.sqlite.prepare('UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ? AND disabled_at IS NULL').run(now, now, id).changes > 0;
    this.revokeAll(id, now);
    return changed;
  }

  enable(id: number, now: number): boolean {
    return this.sqlite.prepare('UPDATE users SET disabled_at = NULL, updated_at = ? WHERE id = ?').run(now, id).changes > 0;
  }

  /** A new password: `mustChange` for a one-time password. Clears the lock; ends every session. */
  setPassword(id: number, passwordHash: string, mustChange: boolean, now: number): void {
    this.sqlite
      .prepare('UPDATE users SET password_hash = ?, must_change_password = ?, failed_signins = 0, locked_until = NULL, updated_at = ? WHERE id = ?')
      .run(passwordHash, mustChange ? 1 : 0, now, id);
    this.revokeAll(id, now);
  }

  setQueues(id: number, queues: readonly string[], now: number): void {
    this.sqlite.prepare('UPDATE users SET queues = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(checkQueues(queues)), now, id);
  }

  /** Counts a failed sign-in; at `limit` in a row the account locks until now + lockMs. Returns true when this failure locked it. */
  recordFailure(id: number, limit: number, lockMs: number, now: number): boolean {
    const row = this.sqlite.prepare('UPDATE users SET failed_signins = failed_signins + 1 WHERE id = ? RETURNING failed_signins').get(id) as { failed_signins: number } | undefined;
    if (row === undefined || row.failed_signins < limit) return false;
    this.sqlite.prepare('UPDATE users SET failed_signins = 0, locked_until = ? WHERE id = ?').run(now + lockMs, id);
    return true;
  }

  clearFailures(id: number): void {
    this.sqlite.prepare('UPDATE users SET failed_signins = 0, locked_until = NULL WHERE id = ? AND (failed_signins <> 0 OR locked_until IS NOT NULL)').run(id);
  }

  // ---- sessions ----

  /** Starts a session; returns the cookie value (never stored: only its SHA-256 is). */
  startSession(userId: number, lifetimes: SessionLifetimes, now: number): string {
    const secret = newSessionSecret();
    this.sqlite.prepare('INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(sha256(secret), userId, now, now, now + lifetimes.absoluteMs);
    return secret;
  }

  /**
   * The live session for a cookie value, or undefined: unknown, revoked, past its absolute end,
   * idle longer than allowed, or its user disabled. `last_seen_at` is written at most once a minute.
   */
  session(secret: string, lifetimes: SessionLifetimes, now: number): ActiveSession | undefined {
    if (!plausibleSecret(secret)) return undefined;
    const row = this.sqlite
      .prepare('SELECT s.id AS sid, s.last_seen_at, s.expires_at, s.revoked_at, u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?')
      .get(sha256(secret)) as SessionUserRow | undefined;
    const verdict = judgeSession(row, lifetimes, now);
    if (row === undefined || verdict === 'none') return undefined;
    if (verdict === 'slide') this.sqlite.prepare('UPDATE sessions SET last_seen_at = ? WHERE id = ?').run(now, row.sid);
    return { sessionId: row.sid, user: toUser(row) };
  }

  endSession(sessionId: number, now: number): void {
    this.sqlite.prepare('UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, sessionId);
  }

  revokeAll(userId: number, now: number, except?: number): number {
    return this.sqlite.prepare('UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id <> ?').run(now, userId, except ?? -1).changes;
  }

  /** A user's sessions, newest first (for the admin and the user: when, never the id). */
  sessions(userId: number, limit = 50): SessionInfo[] {
    return (
      this.sqlite.prepare('SELECT id, created_at, last_seen_at, expires_at, revoked_at FROM sessions WHERE user_id = ? ORDER BY created_at DESC LIMIT ?').all(userId, limit) as SessionRow[]
    ).map(toSessionInfo);
  }

  // ---- displays ----

  /** A new display; returns it with its secret (shown once; only the SHA-256 is stored). */
  createDisplay(name: string, createdBy: string, now: number): { display: Display; secret: string } {
    const n = checkName(name);
    const secret = newDisplaySecret();
    const id = Number(this.sqlite.prepare('INSERT INTO displays (name, secret_hash, created_at, created_by) VALUES (?, ?, ?, ?)').run(n, sha256(secret), now, createdBy).lastInsertRowid);
    return { display: { id, name: n, createdAt: now, createdBy, revokedAt: null }, secret };
  }

  displays(): Display[] {
    return (this.sqlite.prepare('SELECT id, name, created_at, created_by, revoked_at FROM displays ORDER BY id').all() as DisplayRow[]).map(toDisplay);
  }

  revokeDisplay(id: number, now: number): boolean {
    return this.sqlite.prepare('UPDATE displays SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes > 0;
  }

  /** The display a secret names, while it is not revoked. */
  display(secret: string): Display | undefined {
    if (!plausibleSecret(secret)) return undefined;
    const r = this.sqlite.prepare('SELECT id, name, created_at, created_by, revoked_at FROM displays WHERE secret_hash = ? AND revoked_at IS NULL').get(sha256(secret)) as DisplayRow | undefined;
    return r === undefined ? undefined : toDisplay(r);
  }
}

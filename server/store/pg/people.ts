// People on PostgreSQL (issue 14): users, their sessions, wall-screen displays, failed sign-ins and
// locks — PeopleStorePort with the SQLite PeopleStore's answers (server/store/people.ts: the same
// checks, hashes, messages and row shapes, reused from there). What SQLite's one writer gave for free
// is explicit here, for many instances on one database: an email is taken by the unique index (the
// loser gets the store's own PeopleError), a failed sign-in is counted and the lock decided by one
// UPDATE … RETURNING (two instances failing at once both count), and a password change or a disable
// ends the user's sessions in the same statement.
import {
  judgeSession,
  newDisplaySecret,
  newSessionSecret,
  newUserFields,
  checkName,
  checkQueues,
  plausibleSecret,
  publicUser,
  sha256,
  toDisplay,
  toSessionInfo,
  toUser,
  userTaken,
  type ActiveSession,
  type Display,
  type DisplayRow,
  type NewUser,
  type SessionInfo,
  type SessionLifetimes,
  type SessionRow,
  type SessionUserRow,
  type User,
  type UserRow,
  type UserWithHash,
} from '../people.js';
import type { PeopleStorePort } from '../ports.js';
import type { Queryable } from './contacts.js';

/** A user's columns as the SQLite row has them (`toUser` reads them): the flag as 0 or 1. */
const userColumns = (t: string) =>
  `${t}.id, ${t}.email, ${t}.name, ${t}.role, ${t}.password_hash, ${t}.must_change_password::int AS must_change_password, ${t}.queues, ${t}.disabled_at, ${t}.failed_signins, ${t}.locked_until, ${t}.created_at`;
const USER = userColumns('users');

/** A user's live sessions ended at $1, but for session $3 (-1: none). */
const REVOKE_ALL = 'UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id <> $3';

const DISPLAY = 'id, name, created_at, created_by, revoked_at';

export class PgPeopleStore implements PeopleStorePort {
  constructor(private readonly db: Queryable) {}

  // ---- users ----

  /** A new user; an email another user has (even one going in on another instance at this moment) answers the SQLite store's PeopleError. */
  async create(input: NewUser, now: number): Promise<User> {
    const { email, role, name, queues } = newUserFields(input);
    // NOT EXISTS first: a refused email takes no id from the identity (ids without gaps, as SQLite's);
    // ON CONFLICT for the race it cannot see, an instance inserting the same email at this moment.
    const { rows } = await this.db.query<UserRow>(
      `INSERT INTO users (email, name, role, password_hash, must_change_password, queues, created_at, updated_at)
       SELECT $1, $2, $3, $4, true, $5, $6::bigint, $6::bigint WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = $1)
       ON CONFLICT (email) DO NOTHING RETURNING ${USER}`,
      [email, name, role, input.passwordHash, JSON.stringify(queues), now],
    );
    if (rows[0] === undefined) throw userTaken(email);
    return publicUser(toUser(rows[0]));
  }

  async byEmail(email: string): Promise<UserWithHash | undefined> {
    return this.one(`SELECT ${USER} FROM users WHERE email = $1`, email.trim().toLowerCase());
  }

  async byId(id: number): Promise<UserWithHash | undefined> {
    return this.one(`SELECT ${USER} FROM users WHERE id = $1`, id);
  }

  async list(): Promise<User[]> {
    // COLLATE "C": SQLite's order (bytewise), whatever the database's collation.
    const { rows } = await this.db.query<UserRow>(`SELECT ${USER} FROM users ORDER BY email COLLATE "C"`);
    return rows.map((r) => publicUser(toUser(r)));
  }

  /** Disables the account and ends its sessions, in one statement. False when there is no such user (or it was disabled already). */
  async disable(id: number, now: number): Promise<boolean> {
    const { rows } = await this.db.query<{ n: number }>(
      `WITH off AS (UPDATE users SET disabled_at = $1, updated_at = $1 WHERE id = $2 AND disabled_at IS NULL RETURNING 1), ended AS (${REVOKE_ALL})
       SELECT count(*)::int AS n FROM off`,
      [now, id, -1],
    );
    return rows[0]!.n > 0;
  }

  async enable(id: number, now: number): Promise<boolean> {
    const { rowCount } = await this.db.query('UPDATE users SET disabled_at = NULL, updated_at = $1 WHERE id = $2', [now, id]);
    return (rowCount ?? 0) > 0;
  }

  /** A new password: `mustChange` for a one-time password. Clears the lock; ends every session (in the same statement). */
  async setPassword(id: number, passwordHash: string, mustChange: boolean, now: number): Promise<void> {
    await this.db.query(
      `WITH pw AS (UPDATE users SET password_hash = $4, must_change_password = $5, failed_signins = 0, locked_until = NULL, updated_at = $1 WHERE id = $2) ${REVOKE_ALL}`,
      [now, id, -1, passwordHash, mustChange],
    );
  }

  async setQueues(id: number, queues: readonly string[], now: number): Promise<void> {
    await this.db.query('UPDATE users SET queues = $1, updated_at = $2 WHERE id = $3', [JSON.stringify(checkQueues(queues)), now, id]);
  }

  /**
   * Counts a failed sign-in; at `limit` in a row the account locks until now + lockMs and the count
   * starts again. True when this failure locked it. One statement: the row lock orders concurrent
   * failures (each sees the count the one before left), so none is lost and one locks.
   */
  async recordFailure(id: number, limit: number, lockMs: number, now: number): Promise<boolean> {
    const { rows } = await this.db.query<{ locked: boolean }>(
      `UPDATE users SET
         failed_signins = CASE WHEN failed_signins + 1 >= $2 THEN 0 ELSE failed_signins + 1 END,
         locked_until = CASE WHEN failed_signins + 1 >= $2 THEN $3::bigint ELSE locked_until END
       WHERE id = $1
       RETURNING failed_signins = 0 AS locked`, // 0 only when this failure locked: otherwise the count is at least 1
      [id, limit, now + lockMs],
    );
    return rows[0]?.locked ?? false;
  }

  async clearFailures(id: number): Promise<void> {
    await this.db.query('UPDATE users SET failed_signins = 0, locked_until = NULL WHERE id = $1 AND (failed_signins <> 0 OR locked_until IS NOT NULL)', [id]);
  }

  // ---- sessions ----

  /** Starts a session; returns the cookie value (never stored: only its SHA-256 is). */
  async startSession(userId: number, lifetimes: SessionLifetimes, now: number): Promise<string> {
    const secret = newSessionSecret();
    await this.db.query('INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)', [sha256(secret), userId, now, now + lifetimes.absoluteMs]);
    return secret;
  }

  /** The live session for a cookie value, or undefined (judged as the SQLite store judges it: `judgeSession`). */
  async session(secret: string, lifetimes: SessionLifetimes, now: number): Promise<ActiveSession | undefined> {
    if (!plausibleSecret(secret)) return undefined;
    const { rows } = await this.db.query<SessionUserRow>(
      `SELECT s.id AS sid, s.last_seen_at, s.expires_at, s.revoked_at, ${userColumns('u')} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`,
      [sha256(secret)],
    );
    const row = rows[0];
    const verdict = judgeSession(row, lifetimes, now);
    if (row === undefined || verdict === 'none') return undefined;
    // Never backwards: another instance (its clock a little ahead) may have slid it already.
    if (verdict === 'slide') await this.db.query('UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1', [now, row.sid]);
    return { sessionId: row.sid, user: toUser(row) };
  }

  async endSession(sessionId: number, now: number): Promise<void> {
    await this.db.query('UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, sessionId]);
  }

  async revokeAll(userId: number, now: number, except?: number): Promise<number> {
    const { rowCount } = await this.db.query(REVOKE_ALL, [now, userId, except ?? -1]);
    return rowCount ?? 0;
  }

  /** A user's sessions, newest first (ties newest id first, as SQLite's walk of sessions_user backwards gives them). */
  async sessions(userId: number, limit = 50): Promise<SessionInfo[]> {
    const { rows } = await this.db.query<SessionRow>(
      'SELECT id, created_at, last_seen_at, expires_at, revoked_at FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2',
      [userId, limit],
    );
    return rows.map(toSessionInfo);
  }

  // ---- displays ----

  /** A new display; returns it with its secret (shown once; only the SHA-256 is stored). */
  async createDisplay(name: string, createdBy: string, now: number): Promise<{ display: Display; secret: string }> {
    const n = checkName(name);
    const secret = newDisplaySecret();
    const { rows } = await this.db.query<DisplayRow>(`INSERT INTO displays (name, secret_hash, created_at, created_by) VALUES ($1, $2, $3, $4) RETURNING ${DISPLAY}`, [n, sha256(secret), now, createdBy]);
    return { display: toDisplay(rows[0]!), secret };
  }

  async displays(): Promise<Display[]> {
    const { rows } = await this.db.query<DisplayRow>(`SELECT ${DISPLAY} FROM displays ORDER BY id`);
    return rows.map(toDisplay);
  }

  async revokeDisplay(id: number, now: number): Promise<boolean> {
    const { rowCount } = await this.db.query('UPDATE displays SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, id]);
    return (rowCount ?? 0) > 0;
  }

  /** The display a secret names, while it is not revoked. */
  async display(secret: string): Promise<Display | undefined> {
    if (!plausibleSecret(secret)) return undefined;
    const { rows } = await this.db.query<DisplayRow>(`SELECT ${DISPLAY} FROM displays WHERE secret_hash = $1 AND revoked_at IS NULL`, [sha256(secret)]);
    return rows[0] === undefined ? undefined : toDisplay(rows[0]);
  }

  private async one(sql: string, key: string | number): Promise<UserWithHash | undefined> {
    const { rows } = await this.db.query<UserRow>(sql, [key]);
    return rows[0] === undefined ? undefined : toUser(rows[0]);
  }
}

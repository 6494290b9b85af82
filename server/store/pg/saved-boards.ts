// Saved boards and what each wall display shows, on PostgreSQL (issue 14): the SavedBoardPort of
// ../ports.ts giving the SQLite SavedBoardStore's answers. Deleting a board edits the displays that
// chose it in the same transaction, their rows locked first (so a display's choice made meanwhile on
// another instance is not overwritten with a stale list).
import type pg from 'pg';
import type { SavedBoardPort } from '../ports.js';
import { choiceWithout, toBoard, toChoice, type BoardFilter, type BoardRow, type ChoiceRow, type DisplayChoice, type SavedBoard } from '../saved-boards.js';
import type { Queryable } from './contacts.js';
import { inTransaction, type TxClient } from './transaction.js';

const SET_CHOICE = `INSERT INTO display_boards (display_id, boards, rotate_seconds, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (display_id) DO UPDATE SET boards = excluded.boards, rotate_seconds = excluded.rotate_seconds, updated_by = excluded.updated_by, updated_at = excluded.updated_at`;

/** Writes a display's choice (the boards as JSON text, as on SQLite), or clears it when no board is left. */
async function setChoiceOn(db: Queryable, displayId: number, boards: readonly number[], rotateSeconds: number, by: string, at: number): Promise<void> {
  if (boards.length === 0) await db.query('DELETE FROM display_boards WHERE display_id = $1', [displayId]);
  else await db.query(SET_CHOICE, [displayId, JSON.stringify(boards), rotateSeconds, by, at]);
}

export class PgSavedBoardStore implements SavedBoardPort {
  /** A pool, or a connection inside a command's transaction (the writes then join it). */
  constructor(private readonly pool: pg.Pool | TxClient) {}

  /** By team, then name, bytewise (`COLLATE "C"`, SQLite's BINARY) whatever the database's locale. */
  async all(): Promise<SavedBoard[]> {
    return (await this.pool.query<BoardRow>('SELECT * FROM saved_boards ORDER BY team COLLATE "C", name COLLATE "C"')).rows.map(toBoard);
  }

  async byId(id: number): Promise<SavedBoard | undefined> {
    const r = (await this.pool.query<BoardRow>('SELECT * FROM saved_boards WHERE id = $1', [id])).rows[0];
    return r === undefined ? undefined : toBoard(r);
  }

  async idByName(name: string): Promise<number | undefined> {
    return (await this.pool.query<{ id: number }>('SELECT id FROM saved_boards WHERE name = $1', [name])).rows[0]?.id;
  }

  async insert(b: { name: string; team: string; filter: BoardFilter }, by: string, at: number): Promise<number> {
    const r = await this.pool.query<{ id: number }>(
      'INSERT INTO saved_boards (name, team, filter, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id',
      [b.name, b.team, JSON.stringify(b.filter), by, at],
    );
    return r.rows[0]!.id;
  }

  async update(id: number, b: { name: string; team: string; filter: BoardFilter }, at: number): Promise<boolean> {
    const r = await this.pool.query('UPDATE saved_boards SET name = $2, team = $3, filter = $4, updated_at = $5 WHERE id = $1', [id, b.name, b.team, JSON.stringify(b.filter), at]);
    return (r.rowCount ?? 0) === 1;
  }

  /** Deletes a board and takes it out of every display's choice, in one transaction. */
  async remove(id: number, by: string, at: number): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const choices = (await client.query<ChoiceRow>('SELECT * FROM display_boards ORDER BY display_id FOR UPDATE')).rows.map(toChoice);
      for (const c of choices) {
        const left = choiceWithout(c, id);
        if (left !== null) await setChoiceOn(client, c.displayId, left, c.rotateSeconds, by, at);
      }
      return ((await client.query('DELETE FROM saved_boards WHERE id = $1', [id])).rowCount ?? 0) === 1;
    });
  }

  async choice(displayId: number): Promise<DisplayChoice | undefined> {
    const r = (await this.pool.query<ChoiceRow>('SELECT * FROM display_boards WHERE display_id = $1', [displayId])).rows[0];
    return r === undefined ? undefined : toChoice(r);
  }

  async choices(): Promise<DisplayChoice[]> {
    return (await this.pool.query<ChoiceRow>('SELECT * FROM display_boards ORDER BY display_id')).rows.map(toChoice);
  }

  async setChoice(displayId: number, boards: readonly number[], rotateSeconds: number, by: string, at: number): Promise<void> {
    await setChoiceOn(this.pool, displayId, boards, rotateSeconds, by, at);
  }

  async displayActive(id: number): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM displays WHERE id = $1 AND revoked_at IS NULL', [id])).rowCount ?? 0) === 1;
  }
}

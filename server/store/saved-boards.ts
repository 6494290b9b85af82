// Saved boards (issue 11): a team's named filter of the board (queues, channels, categories), and what
// each wall display shows: one saved board, or several in turn at a set interval.
import type { Sqlite } from '../../db/connection.js';

export interface BoardFilter {
  /** Routes or categories, as users' queues are. */
  queues: string[];
  channels: string[];
  categories: string[];
}

export interface SavedBoard {
  id: number;
  name: string;
  team: string;
  filter: BoardFilter;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface DisplayChoice {
  displayId: number;
  boards: number[];
  rotateSeconds: number;
  updatedBy: string;
  updatedAt: number;
}

/** A saved board's row as both databases give it (the filter as JSON text). */
export interface BoardRow {
  id: number;
  name: string;
  team: string;
  filter: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export const toBoard = (r: BoardRow): SavedBoard => ({ id: r.id, name: r.name, team: r.team, filter: JSON.parse(r.filter) as BoardFilter, createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at });

/** A display's choice as both databases give it (the boards as JSON text). */
export interface ChoiceRow {
  display_id: number;
  boards: string;
  rotate_seconds: number;
  updated_by: string;
  updated_at: number;
}

export const toChoice = (r: ChoiceRow): DisplayChoice => ({ displayId: r.display_id, boards: JSON.parse(r.boards) as number[], rotateSeconds: r.rotate_seconds, updatedBy: r.updated_by, updatedAt: r.updated_at });

/** What a display's choice becomes when saved board `id` is deleted: its boards without it (empty: the choice cleared), or null when it did not hold it. */
export const choiceWithout = (c: DisplayChoice, id: number): number[] | null => (c.boards.includes(id) ? c.boards.filter((b) => b !== id) : null);

export class SavedBoardStore {
  private readonly s;

  constructor(sqlite: Sqlite) {
    this.s = {
      all: sqlite.prepare<[], BoardRow>('SELECT * FROM saved_boards ORDER BY team, name'),
      byId: sqlite.prepare<[number], BoardRow>('SELECT * FROM saved_boards WHERE id = ?'),
      byName: sqlite.prepare<[string], { id: number }>('SELECT id FROM saved_boards WHERE name = ?'),
      insert: sqlite.prepare('INSERT INTO saved_boards (name, team, filter, created_by, created_at, updated_at) VALUES (@name, @team, @filter, @by, @at, @at)'),
      update: sqlite.prepare('UPDATE saved_boards SET name = @name, team = @team, filter = @filter, updated_at = @at WHERE id = @id'),
      remove: sqlite.prepare('DELETE FROM saved_boards WHERE id = ?'),
      choice: sqlite.prepare<[number], ChoiceRow>('SELECT * FROM display_boards WHERE display_id = ?'),
      choices: sqlite.prepare<[], ChoiceRow>('SELECT * FROM display_boards ORDER BY display_id'),
      setChoice: sqlite.prepare(
        'INSERT INTO display_boards (display_id, boards, rotate_seconds, updated_by, updated_at) VALUES (@displayId, @boards, @rotateSeconds, @by, @at) ON CONFLICT (display_id) DO UPDATE SET boards = excluded.boards, rotate_seconds = excluded.rotate_seconds, updated_by = excluded.updated_by, updated_at = excluded.updated_at',
      ),
      clearChoice: sqlite.prepare('DELETE FROM display_boards WHERE display_id = ?'),
      displayExists: sqlite.prepare<[number], { id: number }>('SELECT id FROM displays WHERE id = ? AND revoked_at IS NULL'),
    };
  }

  all(): SavedBoard[] {
    return this.s.all.all().map(toBoard);
  }

  byId(id: number): SavedBoard | undefined {
    const r = this.s.byId.get(id);
    return r === undefined ? undefined : toBoard(r);
  }

  idByName(name: string): number | undefined {
    return this.s.byName.get(name)?.id;
  }

  insert(b: { name: string; team: string; filter: BoardFilter }, by: string, at: number): number {
    return Number(this.s.insert.run({ name: b.name, team: b.team, filter: JSON.stringify(b.filter), by, at }).lastInsertRowid);
  }

  update(id: number, b: { name: string; team: string; filter: BoardFilter }, at: number): boolean {
    return this.s.update.run({ id, name: b.name, team: b.team, filter: JSON.stringify(b.filter), at }).changes === 1;
  }

  /** Deletes a board and takes it out of every display's choice. */
  remove(id: number, by: string, at: number): boolean {
    for (const c of this.choices()) {
      const left = choiceWithout(c, id);
      if (left !== null) this.setChoice(c.displayId, left, c.rotateSeconds, by, at);
    }
    return this.s.remove.run(id).changes === 1;
  }

  choice(displayId: number): DisplayChoice | undefined {
    const r = this.s.choice.get(displayId);
    return r === undefined ? undefined : toChoice(r);
  }

  choices(): DisplayChoice[] {
    return this.s.choices.all().map(toChoice);
  }

  setChoice(displayId: number, boards: readonly number[], rotateSeconds: number, by: string, at: number): void {
    if (boards.length === 0) this.s.clearChoice.run(displayId);
    else this.s.setChoice.run({ displayId, boards: JSON.stringify(boards), rotateSeconds, by, at });
  }

  displayActive(id: number): boolean {
    return this.s.displayExists.get(id) !== undefined;
  }
}

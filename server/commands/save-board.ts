// Command: create or replace a saved board (a team's named filter); a name is unique; audited.
import { ConflictError, NotFoundError } from '../errors.js';
import type { BoardFilter } from '../store/saved-boards.js';
import type { CommandContext } from './context.js';

export interface SaveBoardInput {
  now: number;
  actor: string;
  id?: number;
  board: { name: string; team: string; filter: BoardFilter };
}

export const boardNameTaken = (name: string) => new ConflictError(`a saved board is already named "${name}"`, 'name');
export const noBoard = (id: number, field = 'id') => new NotFoundError(`no saved board ${id}`, field);
export const boardAuditAction = (c: SaveBoardInput) => (c.id === undefined ? 'board.create' : 'board.update');

export function saveBoard(ctx: CommandContext, c: SaveBoardInput): { id: number } {
  const clash = ctx.boards.idByName(c.board.name);
  if (clash !== undefined && clash !== c.id) throw boardNameTaken(c.board.name);
  let id: number;
  if (c.id === undefined) id = ctx.boards.insert(c.board, c.actor, c.now);
  else if (ctx.boards.update(c.id, c.board, c.now)) id = c.id;
  else throw noBoard(c.id);
  ctx.audit.record(c.now, c.actor, boardAuditAction(c), { id, ...c.board });
  return { id };
}

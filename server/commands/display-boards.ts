// Command: what a wall display shows: one saved board, several in turn every `rotateSeconds`, or (no
// boards) the whole centre's board; audited.
import { NotFoundError } from '../errors.js';
import type { CommandContext } from './context.js';
import { noBoard } from './save-board.js';

export interface DisplayBoardsInput {
  now: number;
  actor: string;
  displayId: number;
  boards: number[];
  rotateSeconds: number;
}

export const noDisplay = (id: number) => new NotFoundError(`no active display ${id}`, 'id');

export function displayBoards(ctx: CommandContext, c: DisplayBoardsInput): null {
  if (!ctx.boards.displayActive(c.displayId)) throw noDisplay(c.displayId);
  c.boards.forEach((b, i) => {
    if (ctx.boards.byId(b) === undefined) throw noBoard(b, `boards/${i}`);
  });
  ctx.boards.setChoice(c.displayId, c.boards, c.rotateSeconds, c.actor, c.now);
  ctx.audit.record(c.now, c.actor, 'display.boards', { id: c.displayId, boards: c.boards, rotateSeconds: c.rotateSeconds });
  return null;
}

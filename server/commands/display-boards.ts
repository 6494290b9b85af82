// Command: what a wall display shows: one saved board, several in turn every `rotateSeconds`, or (no
// boards) the whole centre's board; audited.
import { NotFoundError } from '../errors.js';
import type { CommandContext } from './context.js';

export interface DisplayBoardsInput {
  now: number;
  actor: string;
  displayId: number;
  boards: number[];
  rotateSeconds: number;
}

export function displayBoards(ctx: CommandContext, c: DisplayBoardsInput): null {
  if (!ctx.boards.displayActive(c.displayId)) throw new NotFoundError(`no active display ${c.displayId}`, 'id');
  c.boards.forEach((b, i) => {
    if (ctx.boards.byId(b) === undefined) throw new NotFoundError(`no saved board ${b}`, `boards/${i}`);
  });
  ctx.boards.setChoice(c.displayId, c.boards, c.rotateSeconds, c.actor, c.now);
  ctx.audit.record(c.now, c.actor, 'display.boards', { id: c.displayId, boards: c.boards, rotateSeconds: c.rotateSeconds });
  return null;
}

// Command: delete a saved board, and take it out of every display's choice; audited.
import { noBoard } from './save-board.js';
import type { CommandContext } from './context.js';

export interface DeleteBoardInput {
  now: number;
  actor: string;
  id: number;
}

export function deleteBoard(ctx: CommandContext, c: DeleteBoardInput): null {
  if (!ctx.boards.remove(c.id, c.actor, c.now)) throw noBoard(c.id);
  ctx.audit.record(c.now, c.actor, 'board.delete', { id: c.id });
  return null;
}

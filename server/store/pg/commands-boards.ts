// The board's extras' write commands on PostgreSQL (issue 14): public notices, the team lead's board
// message, saved boards and what each display shows, alert rules and the alerts sent. Each is one
// durable transaction (runWritten: the calendar lock shared, as every write but a calendar edit)
// in which the PostgreSQL stores' writes and the audit entry commit together, with the SQLite
// command's output, errors and audit details (server/commands/, the same exported steps). None
// changes a clock, so none writes the change feed.
import type pg from 'pg';
import { noticeAudit, type AddNoticeInput } from '../../commands/add-notice.js';
import { messageAudit, type BoardMessageInput } from '../../commands/board-message.js';
import type { DeleteAlertRuleInput } from '../../commands/delete-alert-rule.js';
import type { DeleteBoardInput } from '../../commands/delete-board.js';
import { noDisplay, type DisplayBoardsInput } from '../../commands/display-boards.js';
import type { RecordAlertSendInput } from '../../commands/record-alert-send.js';
import { alertRuleAudit, noAlertRule, type SaveAlertRuleInput } from '../../commands/save-alert-rule.js';
import { boardAuditAction, boardNameTaken, noBoard, type SaveBoardInput } from '../../commands/save-board.js';
import { noNotice, type WithdrawNoticeInput } from '../../commands/withdraw-notice.js';
import { PgAlertStore } from './alerts.js';
import { recordAudit } from './command-rows.js';
import { PgNoticeStore } from './notices.js';
import { PgSavedBoardStore } from './saved-boards.js';
import { runWritten, type TxClient, type WrittenOptions } from './transaction.js';

export class PgBoardCommands {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: WrittenOptions = {},
  ) {}

  addNotice(c: AddNoticeInput): Promise<{ id: number }> {
    return this.run(async (tx) => {
      const id = await new PgNoticeStore(tx).addNotice(c.notice, c.actor, c.now);
      await recordAudit(tx, c.now, c.actor, 'notice.add', noticeAudit(id, c.notice));
      return { id };
    });
  }

  withdrawNotice(c: WithdrawNoticeInput): Promise<null> {
    return this.run(async (tx) => {
      if (!(await new PgNoticeStore(tx).withdraw(c.id, c.now))) throw noNotice(c.id);
      await recordAudit(tx, c.now, c.actor, 'notice.withdraw', { id: c.id });
      return null;
    });
  }

  boardMessage(c: BoardMessageInput): Promise<{ id: number | null; ended: boolean }> {
    return this.run(async (tx) => {
      const notices = new PgNoticeStore(tx);
      if (c.text === null) {
        const ended = await notices.endMessage(c.actor, c.now);
        if (ended) await recordAudit(tx, c.now, c.actor, 'board-message.end', {});
        return { id: null, ended };
      }
      const id = await notices.postMessage(c.text, c.actor, c.now, c.until);
      await recordAudit(tx, c.now, c.actor, 'board-message.post', messageAudit(id, c.until));
      return { id, ended: false };
    });
  }

  saveBoard(c: SaveBoardInput): Promise<{ id: number }> {
    return this.run(async (tx) => {
      const boards = new PgSavedBoardStore(tx);
      const clash = await boards.idByName(c.board.name);
      if (clash !== undefined && clash !== c.id) throw boardNameTaken(c.board.name);
      let id: number;
      if (c.id === undefined) id = await boards.insert(c.board, c.actor, c.now);
      else if (await boards.update(c.id, c.board, c.now)) id = c.id;
      else throw noBoard(c.id);
      await recordAudit(tx, c.now, c.actor, boardAuditAction(c), { id, ...c.board });
      return { id };
    });
  }

  deleteBoard(c: DeleteBoardInput): Promise<null> {
    return this.run(async (tx) => {
      if (!(await new PgSavedBoardStore(tx).remove(c.id, c.actor, c.now))) throw noBoard(c.id);
      await recordAudit(tx, c.now, c.actor, 'board.delete', { id: c.id });
      return null;
    });
  }

  displayBoards(c: DisplayBoardsInput): Promise<null> {
    return this.run(async (tx) => {
      const boards = new PgSavedBoardStore(tx);
      if (!(await boards.displayActive(c.displayId))) throw noDisplay(c.displayId);
      for (const [i, b] of c.boards.entries()) if ((await boards.byId(b)) === undefined) throw noBoard(b, `boards/${i}`);
      await boards.setChoice(c.displayId, c.boards, c.rotateSeconds, c.actor, c.now);
      await recordAudit(tx, c.now, c.actor, 'display.boards', { id: c.displayId, boards: c.boards, rotateSeconds: c.rotateSeconds });
      return null;
    });
  }

  saveAlertRule(c: SaveAlertRuleInput): Promise<{ id: number }> {
    return this.run(async (tx) => {
      const rules = new PgAlertStore(tx);
      let id: number;
      if (c.id === undefined) id = await rules.insert(c.rule, c.actor, c.now);
      else if (await rules.update(c.id, c.rule, c.now)) id = c.id;
      else throw noAlertRule(c.id);
      await recordAudit(tx, c.now, c.actor, c.id === undefined ? 'alert-rule.create' : 'alert-rule.update', alertRuleAudit(id, c.rule));
      return { id };
    });
  }

  deleteAlertRule(c: DeleteAlertRuleInput): Promise<null> {
    return this.run(async (tx) => {
      if (!(await new PgAlertStore(tx).remove(c.id, c.now))) throw noAlertRule(c.id);
      await recordAudit(tx, c.now, c.actor, 'alert-rule.delete', { id: c.id });
      return null;
    });
  }

  recordAlertSend(c: RecordAlertSendInput): Promise<{ id: number }> {
    return this.run(async (tx) => ({ id: await new PgAlertStore(tx).recordSend(c.ruleId, c.now, c.keys, c.subject, c.outcome) }));
  }

  private run<T>(work: (tx: TxClient) => Promise<T>): Promise<T> {
    return runWritten(this.pool, this.options, 'shared', async (tx) => ({ out: await work(tx), changes: [], feed: [] }));
  }
}

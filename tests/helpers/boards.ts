// A live board's socket in a multi-instance test: resolves once the board's snapshot has come (the
// team lead's message may come first), rejects if the socket fails before.
import type WebSocket from 'ws';

export function untilSnapshot<B extends { socket: WebSocket; messages: ReadonlyArray<{ type: string }> }>(board: B): Promise<B> {
  return new Promise((resolve, reject) => {
    const wait = setInterval(() => {
      if (board.messages.some((m) => m.type === 'snapshot')) {
        clearInterval(wait);
        resolve(board);
      }
    }, 20);
    board.socket.once('error', (e) => {
      clearInterval(wait);
      reject(e);
    });
  });
}

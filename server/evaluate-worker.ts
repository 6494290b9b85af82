// One lane of `sla evaluate --threads N`: batches of whole lines in, their output lines out.
import { parentPort, workerData } from 'node:worker_threads';
import { evaluateBatch } from './evaluate.js';
import { optionsFromSetup, type EvaluateSetup } from './evaluate-pool.js';

const options = optionsFromSetup(workerData as EvaluateSetup);
const port = parentPort!;
port.on('message', (m: { id: number; text: string; firstLine: number }) => {
  try {
    port.postMessage({ id: m.id, result: evaluateBatch(m.text, m.firstLine, options) });
  } catch (e) {
    port.postMessage({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
port.postMessage({ ready: true });

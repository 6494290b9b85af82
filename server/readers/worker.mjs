// A reader thread's entry when Kept runs from TypeScript (tsx): Node 20 does not load a worker's .ts
// entry through the --import hooks, so this plain module registers tsx's loader in the thread, then
// loads the TypeScript worker. A compiled build loads worker.js directly (see pool.ts).
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');

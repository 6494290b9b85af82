// The worker thread's entry: Node 20 does not load a worker's .ts entry through the --import hooks,
// so this plain module registers tsx's loader in the thread, then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./evaluate-worker.ts');

/**
 * Runs in a child process (`node --import tsx stop-mid-import-child.ts SOURCE CACHE_DIR PHASE`): the
 * real import (runImport, what the worker runs) in this process, with temp paths named like any
 * import's. At the first progress event of PHASE with done > 0 — inside the progress callback, so the
 * import has not moved on — it prints its temp paths as one JSON line and stops itself with SIGSTOP:
 * every thread halts exactly there, for the test to SIGKILL (a crash mid-import) or SIGCONT (a live
 * import that simply goes on). After SIGCONT it finishes the import and prints "done".
 */
import { writeSync } from 'node:fs';
import { importTempPaths } from '../cache.js';
import type { ImportProgress } from '../types.js';
import { runImport } from '../run-import.js';

const [source, cacheDir, phase] = process.argv.slice(2) as [string, string, ImportProgress['phase']];
const paths = importTempPaths(cacheDir);
let stopped = false;
await runImport({ source, cacheDir, options: {}, ...paths }, (p, done) => {
  if (stopped || p !== phase || done === 0) return;
  stopped = true;
  writeSync(1, JSON.stringify(paths) + '\n');
  process.kill(process.pid, 'SIGSTOP');
});
writeSync(1, 'done\n');

/**
 * Runs in a child process (`node --import tsx import-child.ts SOURCE CACHE_DIR [OPTIONS_JSON]`): one
 * import through the real worker, then one JSON line on stdout with the outcome and the process's
 * peak resident memory in KiB (every thread, the import worker included).
 *
 * The peak is VmHWM from /proc/self/status, not process.resourceUsage().maxRSS: on Linux ru_maxrss
 * survives execve, and a spawned child starts as a fork of its parent, so maxRSS would report the
 * (much larger) test runner that spawned it. VmHWM belongs to the address space exec created.
 */
import { readFileSync } from 'node:fs';
import { DatasetImportError, importDataset } from '../index.js';

function peakRssKiB(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

const [source, cacheDir, optionsJson] = process.argv.slice(2);
const report = (outcome: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify({ ...outcome, peakRSS: peakRssKiB() }) + '\n');
};
try {
  const result = await importDataset(source!, cacheDir!, optionsJson ? JSON.parse(optionsJson) : {});
  report({ ok: true, trainCount: result.trainCount, shape: result.shape, corrupt: result.lint.corrupt, classNames: result.classNames });
} catch (error) {
  report({ ok: false, code: error instanceof DatasetImportError ? error.code : null, message: (error as Error).message });
}

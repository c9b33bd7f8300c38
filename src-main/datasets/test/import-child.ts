/**
 * Runs in a child process (`node --import tsx import-child.ts SOURCE CACHE_DIR [OPTIONS_JSON]`): one
 * import through the real worker, then one JSON line on stdout with the outcome and the process's
 * peak RSS (KiB, process.resourceUsage().maxRSS: every thread of the process, the worker included).
 */
import { DatasetImportError, importDataset } from '../index.js';

const [source, cacheDir, optionsJson] = process.argv.slice(2);
const report = (outcome: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify({ ...outcome, maxRSS: process.resourceUsage().maxRSS }) + '\n');
};
try {
  const result = await importDataset(source!, cacheDir!, optionsJson ? JSON.parse(optionsJson) : {});
  report({ ok: true, trainCount: result.trainCount, shape: result.shape, corrupt: result.lint.corrupt, classNames: result.classNames });
} catch (error) {
  report({ ok: false, code: error instanceof DatasetImportError ? error.code : null, message: (error as Error).message });
}

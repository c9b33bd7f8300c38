/**
 * The e2e studio: the web server of `npm run web` on the real service, except that imports run in
 * ./held-import-worker.ts, which can be held in the middle of an import (see there). Started by
 * ../global-setup.ts with `--db FILE`; prints the same "serving on" line.
 */
import { openStudio } from '../../src-main/composition.js';
import { startTypeScriptWorker, workerFactories } from '../../src-main/worker-factories/index.js';
import { startWebServer } from '../../src-main/web/server.js';

const dbIndex = process.argv.indexOf('--db');
const dbPath = dbIndex > 0 ? process.argv[dbIndex + 1] : undefined;
if (!dbPath) throw new Error('studio-server: --db FILE is required');

const HELD_IMPORTER = new URL('./held-import-worker.ts', import.meta.url);
const service = await openStudio(dbPath, { workers: { ...workerFactories, importer: (data) => startTypeScriptWorker(HELD_IMPORTER, data) } });
const server = await startWebServer(service, { port: 0 });
process.stdout.write(`CNN Studio is serving on ${server.url}\n`);

const shutdown = async () => {
  await server.close();
  await service.close();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());

/**
 * Drives the built desktop app on the Electron stand-in, in plain Node, through the built preload's
 * API exactly as the renderer would call it: list the library, import the bundled sample, train
 * one epoch of the reference net on 2 threads, evaluate it, then quit. Prints one JSON line per
 * step; the test (src-main/build/built-app.test.ts) reads them.
 *   node e2e/electron-stand-in/drive-built-app.mjs <out dir> <sample dir>
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadPreload } from './register.mjs';

const [outDir, sampleDir] = process.argv.slice(2);
const say = (step, value) => process.stdout.write(JSON.stringify({ step, value }) + '\n');
const must = (r, what) => {
  if (!r.ok) throw new Error(`${what}: ${r.error.code}: ${r.error.message}`);
  return r.value;
};

const { standIn, app } = await import('./electron.mjs');
await import(pathToFileURL(join(outDir, 'main', 'index.js')).href);
const win = await standIn.windowCreated;
say('window', { preload: win.options.webPreferences.preload, loaded: win.loaded ?? null, webPreferences: win.options.webPreferences });
// the window exists once the service is open and the contract is bound
const world = await loadPreload(win.options.webPreferences.preload);
const api = world.cnnStudio;
say('api', { functions: Object.keys(api).sort(), exposesIpcRenderer: 'invoke' in api });

const datasets = must(await api.listDatasets({}), 'listDatasets');
say('datasets', datasets.map((d) => ({ id: d.id, name: d.name, trainCount: d.trainCount })));
const imported = must(await api.importDataset({ path: sampleDir }), 'importDataset');
say('import', { id: imported.dataset.id, alreadyImported: imported.alreadyImported });

const datasetId = imported.dataset.id;
const template = must(await api.templates({ datasetId }), 'templates').find((t) => t.name === 'reference');
const statuses = [];
let resolveEnd;
const ended = new Promise((r) => (resolveEnd = r));
let runId = -1;
api.on('runStatus', (e) => {
  if (e.runId !== runId) return;
  statuses.push({ status: e.status, kernelsUsed: e.kernelsUsed, error: e.error });
  if (!['queued', 'running'].includes(e.status)) resolveEnd();
});
const run = must(await api.startRun({ datasetId, spec: template.spec, hyperparameters: { epochs: 1, trainLimit: 1000, threads: 2, batchSize: 32 } }), 'startRun');
runId = run.id;
await ended;
const detail = must(await api.getRun({ id: runId, batches: false }), 'getRun');
say('run', { id: runId, status: detail.status, threads: detail.hyperparameters.threads, kernelsUsed: detail.kernelsUsed, epochs: detail.epochs.length, error: detail.error, statuses });
const evaluation = must(await api.evaluateRun({ runId }), 'evaluateRun');
say('evaluation', { split: evaluation.split, count: evaluation.count, accuracy: evaluation.accuracy });

const quit = new Promise((r) => app.once('quit', r));
app.quit();
await quit;
say('quit', { quitCount: standIn.quitCount });
process.exit(0);

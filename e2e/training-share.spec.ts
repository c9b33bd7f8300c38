/**
 * "Share it" and the hand-off buttons on the real backend. A small conv net trained for one epoch;
 * the Train view's "Web page (HTML)" button downloads one file, which is opened from disk
 * (file://) in Chromium: a test image of the sample dataset dropped into it gives the top class and
 * the probabilities of the studio's `predict` on the same image (within 1e-5), a stroke on its pad
 * those of `predict` on the drawn pixels, and the page asks nothing of any network. Then the
 * "PyTorch project" button downloads the project as one tar, and its weights.cnnm, imported in the
 * Experiments view, becomes a completed run (deleted again at the end). Named to run after
 * training-flow.spec.ts (which starts from an empty run list) and before views.spec.ts.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { api, openStudio, shot, WORK } from './studio.js';

const RUN_NAME = 'e2e share';

const shownProbabilities = async (page: Page) => {
  const out: Record<string, number> = {};
  for (const item of await page.getByTestId('probability').all()) out[(await item.getAttribute('data-class'))!] = Number(await item.getAttribute('data-p'));
  return out;
};

/** The entries of a ustar archive (the PyTorch download), by path. */
function untar(bytes: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const str = (o: number, n: number) => bytes.subarray(o, o + n).toString('utf8').replace(/\0.*$/s, '');
  for (let o = 0; o + 512 <= bytes.length && bytes[o] !== 0;) {
    const size = parseInt(str(o + 124, 12), 8);
    const prefix = str(o + 345, 155);
    out.set(`${prefix ? `${prefix}/` : ''}${str(o, 100)}`, bytes.subarray(o + 512, o + 512 + size));
    o += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

test('share it: the exported page, opened from disk, predicts as the studio does; the PyTorch project downloads and its weights import back as a run', async ({ page }) => {
  const sample = (await api('listDatasets', {})).find((d) => d.name === 'Fashion-MNIST sample')!;
  const run = await api('startRun', {
    datasetId: sample.id, name: RUN_NAME,
    spec: { inputShape: [28, 28, 1], layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' }, { type: 'maxpool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    hyperparameters: { epochs: 1, trainLimit: 600, batchSize: 50, seed: 11 },
  });
  await expect.poll(async () => (await api('getRun', { id: run.id, batches: false })).status, WORK).toBe('completed');

  await openStudio(page, 'train');
  await page.locator(`[data-testid="run-item"][data-run-id="${run.id}"]`).click({ timeout: WORK.timeout });
  const [download] = await Promise.all([page.waitForEvent('download', WORK), page.getByTestId('export-html').click()]);
  expect(download.suggestedFilename()).toBe(`run-${run.id}.html`);
  // a file on disk under its own name (the browser decides by the extension that it is a page)
  const htmlPath = test.info().outputPath(download.suggestedFilename());
  await download.saveAs(htmlPath);
  const size = readFileSync(htmlPath).length;
  const sizeText = size < 1e6 ? `${(size / 1e3).toFixed(1)} kB` : `${(size / 1e6).toFixed(1)} MB`;
  await expect(page.getByTestId('export-downloaded')).toContainText(`Downloaded run-${run.id}.html (${sizeText}) — open it in any browser`);

  // the file, from disk, in a tab of its own: nothing but the file itself is ever requested
  const share = await page.context().newPage();
  const requested: string[] = [];
  share.on('request', (r) => requested.push(r.url()));
  const problems: string[] = [];
  share.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  share.on('pageerror', (e) => problems.push(e.message));
  await share.setViewportSize({ width: 1280, height: 800 });
  await share.goto(pathToFileURL(htmlPath).href);
  await expect(share.locator('body[data-ready="true"]')).toHaveCount(1);
  await expect(share.getByTestId('ready')).toHaveText('Ready: 10 classes, 28×28 gray input.');

  // a test image of the sample dataset, as a PNG file: the page's top class and probabilities are predict's
  const [thumb] = await api('getThumbnails', { datasetId: sample.id, split: 'test', indices: [9], format: 'png', scale: 1 });
  const png = Buffer.from(thumb!.base64, 'base64');
  await share.getByTestId('image-file').setInputFiles({ name: 'test-9.png', mimeType: 'image/png', buffer: png });
  await expect(share.getByTestId('probability')).toHaveCount(10);
  const studio = await api('predict', { runId: run.id, image: { type: 'file', base64: thumb!.base64, name: 'test-9.png' } });
  const shown = await shownProbabilities(share);
  console.log(`page vs studio on test image 9: top ${Object.entries(shown).sort((a, b) => b[1] - a[1])[0]![0]} / ${studio.ranked[0]!.className}, max |Δp| ${Math.max(...studio.ranked.map((c) => Math.abs(shown[c.className]! - c.probability))).toExponential(2)}`);
  await expect(share.getByTestId('probability').first()).toHaveAttribute('data-class', studio.ranked[0]!.className);
  for (const c of studio.ranked) expect(Math.abs(shown[c.className]! - c.probability), c.className).toBeLessThanOrEqual(1e-5);
  for (const step of studio.image.steps) await expect(share.getByTestId('preprocessing-steps')).toContainText(step);
  await shot(share, 'share-page-1280');
  await share.setViewportSize({ width: 1024, height: 700 });
  await shot(share, 'share-page-1024');

  // a stroke on the page's pad: the probabilities of predict on those very pixels
  const pad = share.getByTestId('drawing-pad');
  const box = (await pad.boundingBox())!;
  await share.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2);
  await share.mouse.down();
  for (let t = 0; t <= 10; t++) await share.mouse.move(box.x + box.width * (0.3 + 0.04 * t), box.y + box.height * (0.2 + 0.06 * t));
  await share.mouse.up();
  await expect(share.getByTestId('preprocessing-steps')).toContainText('drawn 28×28, gray');
  const drawn = await share.getByTestId('prepared-image').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < c.width * c.height; i++) s += String.fromCharCode(d[4 * i]!);
    return btoa(s);
  });
  const fromPad = await api('predict', { runId: run.id, image: { type: 'pixels', width: 28, height: 28, channels: 1, base64: drawn } });
  const shownPad = await shownProbabilities(share);
  for (const c of fromPad.ranked) expect(Math.abs(shownPad[c.className]! - c.probability), c.className).toBeLessThanOrEqual(1e-5);
  expect(requested).toEqual([pathToFileURL(htmlPath).href]);
  expect(problems).toEqual([]);
  await share.close();

  // the PyTorch project: one tar of its folder in a browser
  const [tarDownload] = await Promise.all([page.waitForEvent('download', WORK), page.getByTestId('export-pytorch').click()]);
  expect(tarDownload.suggestedFilename()).toBe(`run-${run.id}-pytorch.tar`);
  const entries = untar(readFileSync((await tarDownload.path())!));
  for (const f of ['model.py', 'train.py', 'data.py', 'verify.py', 'weights.cnnm', 'README.md']) expect([...entries.keys()], f).toContain(`run-${run.id}-pytorch/${f}`);
  await expect(page.getByTestId('export-downloaded')).toContainText(`Downloaded run-${run.id}-pytorch.tar`);
  await page.getByTestId('export-downloaded').scrollIntoViewIfNeeded();
  await shot(page, 'share-export-buttons');

  // its weights back as a run, through the Experiments view's import
  await openStudio(page, 'experiments');
  await page.getByTestId('model-import-dataset').selectOption(String(sample.id));
  await page.getByTestId('model-import-name').fill('e2e share, imported');
  await page.getByTestId('model-import-file').setInputFiles({ name: 'weights.cnnm', mimeType: 'application/octet-stream', buffer: entries.get(`run-${run.id}-pytorch/weights.cnnm`)! });
  await expect(page.getByTestId('model-import-done')).toContainText(/^Imported weights\.cnnm as run #(\d+) “e2e share, imported” on Fashion-MNIST sample/, WORK);
  const importedId = Number(/#(\d+)/.exec((await page.getByTestId('model-import-done').textContent())!)![1]);
  expect(await api('getRun', { id: importedId, batches: false })).toMatchObject({ status: 'completed', datasetId: sample.id, specHash: (await api('getRun', { id: run.id, batches: false })).specHash });
  await page.getByTestId('model-import').scrollIntoViewIfNeeded();
  await shot(page, 'experiments-model-import');

  // a file that is no model: refused in words
  await page.getByTestId('model-import-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a model') });
  await expect(page.getByTestId('model-import-error')).toContainText(/^notes\.txt was not imported: importModel: /, WORK);

  // the imported run has no training curves: views.spec.ts, next, opens the Train view on the newest run and wants some
  await api('deleteRun', { id: importedId, confirmed: true });
});

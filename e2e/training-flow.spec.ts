/**
 * One user's path through the studio on the real backend: build a model (see a shape error, fix
 * it, see refusals at their fields), train it to completion and download it, evaluate it (on two
 * splits, paging the mistakes), fork and compare, then watch a long run's live charts, pause,
 * resume and stop it, and cancel a long evaluation. The steps share one page, as a user would.
 *
 * Nothing here races the machine: every step that acts on something in progress acts on a run or an
 * evaluation that cannot finish first by construction (100,000 epochs; ~470 G multiply-adds), and
 * every wait is on a state the page shows or the service stores, never on a sleep.
 */
import { expect, test, type Download, type Locator, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RunSummary } from '../src-main/contract/index.js';
import { api, openStudio, shot, WORK } from './studio.js';

test.describe.configure({ mode: 'serial' });

let page: Page;
/** Uncaught exceptions and console errors of the page: the whole path must have none. */
const pageErrors: string[] = [];

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
});

test.afterAll(async () => {
  await page.close();
});

const points = async (canvas: Locator) => Number(await canvas.getAttribute('data-points'));
const runNamed = async (name: string): Promise<RunSummary> => {
  const found = (await api('listRuns', {})).find((r) => r.name === name);
  if (!found) throw new Error(`no run named ${name}`);
  return found;
};
/** What the loss chart draws of a stored run: each batch row raw and smoothed, each epoch's train and validation loss. */
const storedLossPoints = async (id: number) => {
  const d = await api('getRun', { id, batches: true });
  return 2 * d.batches.length + d.epochs.length + d.epochs.filter((e) => e.valLoss !== null).length;
};

test('builder: a kernel that does not fit is named at its layer; refusals land at their fields; Start trains', async () => {
  await openStudio(page, 'builder');
  const cards = page.getByTestId('layer-card');
  // The reference template is loaded first: conv, pool, conv, pool, flatten, dense.
  await expect(cards).toHaveCount(6);
  await page.getByTestId('builder-template').selectOption('mlp');
  await expect(cards).toHaveCount(3);
  await expect(cards.nth(2).getByTestId('layer-shape')).toHaveText('1×1×32 → 1×1×10');
  await page.getByTestId('builder-template').selectOption('reference');
  await expect(cards).toHaveCount(6);
  await expect(cards.nth(0).getByTestId('layer-shape')).toHaveText('28×28×1 → 26×26×16');

  await cards.nth(0).getByTestId('field-kernelSize').fill('30');
  await expect(cards.nth(0).getByTestId('layer-error')).toHaveText('conv2d #1: kernel 30×30 does not fit input 28×28×1');
  await expect(page.getByTestId('layer-error')).toHaveCount(1);
  await expect(page.getByTestId('start-run')).toBeDisabled();
  await shot(page, 'builder-shape-error');

  await cards.nth(0).getByTestId('field-kernelSize').fill('5');
  await cards.nth(0).getByTestId('field-filters').fill('32');
  await expect(page.getByTestId('layer-error')).toHaveCount(0);
  await expect(cards.nth(0).getByTestId('layer-shape')).toHaveText('28×28×1 → 24×24×32');
  await expect(cards.nth(2).getByTestId('layer-shape')).toHaveText('12×12×32 → 10×10×32');

  // A dropout goes in before the classifier and changes no shape.
  await page.getByTestId('add-dropout').click();
  await expect(cards).toHaveCount(7);
  await expect(cards.nth(5)).toHaveAttribute('data-layer-type', 'dropout');
  await expect(cards.nth(5).getByTestId('layer-shape')).toHaveText('1×1×800 → 1×1×800');
  // conv 5×5×1×32+32 = 832, conv 3×3×32×32+32 = 9,248, dense 800×10+10 = 8,010
  await expect(page.getByTestId('total-params')).toHaveText('18,090');

  // Moved below the classifier, the dropout leaves a softmax mid-model, named at that layer; moved back, all is well.
  await page.getByRole('button', { name: 'move layer 6 down' }).click();
  await expect(cards.nth(6)).toHaveAttribute('data-layer-type', 'dropout');
  await expect(cards.nth(5).getByTestId('layer-error')).toHaveText('dense #6: softmax is only allowed on the last layer');
  await page.getByRole('button', { name: 'move layer 7 up' }).click();
  await expect(page.getByTestId('layer-error')).toHaveCount(0);

  // The form starts from the contract's defaults.
  await expect(page.getByTestId('hp-progressEvery')).toHaveValue('10');
  await expect(page.getByTestId('hp-threads')).toHaveValue('2');
  await expect(page.getByTestId('hp-batchSize')).toHaveValue('32');

  // Out of the contract's range: refused at the field, in the contract's words.
  const red = 'rgb(185, 28, 28)';
  await page.getByTestId('hp-batchSize').fill('0');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('start-error')).toHaveText('batch size must be an integer from 1 to 65536, got 0');
  await expect(page.getByTestId('hp-batchSize')).toHaveCSS('border-top-color', red);
  // What only the service knows (these images are 28×28): its refusal, at the field it names.
  await page.getByTestId('hp-batchSize').fill('16');
  await page.getByTestId('hp-augment.maxShift').fill('20');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('start-error')).toHaveText('augmentation shift must be an integer from 0 to 14 pixels for 28×28 images, got 20');
  await expect(page.getByTestId('hp-augment.maxShift')).toHaveCSS('border-top-color', red);
  await expect(page.getByTestId('hp-batchSize')).not.toHaveCSS('border-top-color', red);
  expect(await api('listRuns', {})).toEqual([]);

  await page.getByTestId('hp-augment.maxShift').fill('0');
  await page.getByTestId('hp-name').fill('e2e baseline');
  await page.getByTestId('hp-epochs').fill('2');
  await page.getByTestId('hp-trainLimit').fill('4000');
  await page.getByTestId('hp-progressEvery').fill('2');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('run-dashboard')).toBeVisible();
  await expect(page.getByTestId('run-dashboard')).toContainText('e2e baseline');
});

test('train: the run trains to completion; every stored point is on the chart; the model downloads as ONNX and as JSON + weights', async () => {
  const dashboard = page.getByTestId('run-dashboard');
  const loss = page.getByTestId('loss-chart');
  const chartId = await loss.getAttribute('data-chart-id');
  await expect(dashboard.getByTestId('run-status')).toHaveText('completed', WORK);
  await expect(page.getByTestId('epoch-progress')).toContainText('2 of 2 epochs done');
  await expect(page.getByTestId('val-accuracy')).not.toHaveText('—');
  const run = await runNamed('e2e baseline');
  // 250 batches per epoch (4,000 images / 16), an event every 2nd: 250 stored rows over the 2 epochs.
  expect(await storedLossPoints(run.id)).toBe(2 * 250 + 2 * 2);
  await expect.poll(() => points(loss)).toBe(2 * 250 + 2 * 2);
  // Same canvas, same chart all along: updated with update('none'), never re-created.
  expect(await loss.getAttribute('data-chart-id')).toBe(chartId);
  await shot(page, 'train-completed');

  // ONNX: a protobuf whose first field is ir_version (tag 0x08).
  const [onnx] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-onnx').click()]);
  expect(onnx.suggestedFilename()).toBe(`run-${run.id}.onnx`);
  const bytes = readFileSync((await onnx.path())!);
  expect(bytes.length).toBeGreaterThan(18_090 * 4);
  expect(bytes[0]).toBe(0x08);

  // JSON: two downloads, the model and its weights, tied by the weights' length and sha256.
  const downloads: Download[] = [];
  const onDownload = (d: Download) => downloads.push(d);
  page.on('download', onDownload);
  await page.getByTestId('export-json').click();
  await expect.poll(() => downloads.length).toBe(2);
  page.off('download', onDownload);
  expect(downloads.map((d) => d.suggestedFilename()).sort()).toEqual([`run-${run.id}.json`, `run-${run.id}.json.bin`]);
  const file = (name: string) => downloads.find((d) => d.suggestedFilename() === name)!.path().then((p) => readFileSync(p!));
  const model = JSON.parse((await file(`run-${run.id}.json`)).toString('utf8')) as { weights: { file: string; byteLength: number; sha256: string } };
  const weights = await file(`run-${run.id}.json.bin`);
  expect(model.weights.file).toBe(`run-${run.id}.json.bin`);
  expect(weights.length).toBe(18_090 * 4);
  expect(model.weights.byteLength).toBe(weights.length);
  expect(model.weights.sha256).toBe(createHash('sha256').update(weights).digest('hex'));
});

test('evaluate: test accuracy, per-class table, a 10×10 confusion matrix; the mistakes page by page, each its own split\'s image', async () => {
  await page.getByTestId('evaluate-run').click();
  const accuracy = page.getByTestId('test-accuracy');
  await expect(accuracy).toBeVisible(WORK);
  const value = parseFloat(await accuracy.innerText());
  expect(value).toBeGreaterThan(30);
  await expect(page.getByTestId('class-metrics').locator('tbody tr')).toHaveCount(10);
  await expect(page.getByTestId('confusion-cell')).toHaveCount(100);
  // The matrix counts every test image once.
  const cells = await page.getByTestId('confusion-cell').allInnerTexts();
  expect(cells.reduce((s, t) => s + (t ? Number(t) : 0), 0)).toBe(1000);
  await expect(page.getByTestId('misclassified-item').first().locator('img')).toBeVisible(WORK);
  await shot(page, 'evaluate');
  // Every page of the test mistakes, each page's images loaded: the page has now seen these indices as test images.
  const testIndices: number[] = [];
  const pages = Number(/of (\d+)$/.exec(await page.getByTestId('misclassified-page').innerText())![1]);
  for (let p = 0; p < pages; p++) {
    if (p > 0) await page.getByTestId('misclassified-next').click();
    await expect(page.getByTestId('misclassified-range')).toContainText(`Images ${p * 24 + 1}–`);
    await expect(page.getByTestId('misclassified-item').locator('.placeholder')).toHaveCount(0);
    testIndices.push(...await page.getByTestId('misclassified-item').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index')))));
  }
  expect(testIndices.length).toBeGreaterThan(24);

  // The training images, evaluated: the same indices now name other images.
  const run = await runNamed('e2e baseline');
  await page.getByTestId('evaluate-split').selectOption('train');
  await page.getByTestId('evaluate-button').click();
  await expect(page.getByTestId('evaluated-on')).toContainText('on the train split (4,500 images', WORK);
  const shownAreStored = async () => {
    const items = page.getByTestId('misclassified-item');
    await expect(items.first().locator('img')).toBeVisible();
    await expect(items.locator('.placeholder')).toHaveCount(0);
    const indices = (await items.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index')))));
    const expected = await api('getThumbnails', { datasetId: run.datasetId, split: 'train', indices, scale: 3 });
    const sources = await items.locator('img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).src));
    expect(sources).toEqual(expected.map((t) => `data:image/png;base64,${t.base64}`));
    return indices;
  };
  const first = await shownAreStored();
  expect(first).toHaveLength(24);
  await expect(page.getByTestId('misclassified-range')).toContainText('Images 1–24 of');
  await page.getByTestId('misclassified-next').click();
  await expect(page.getByTestId('misclassified-range')).toContainText('Images 25–48 of');
  const second = await shownAreStored();
  expect(second.some((i) => first.includes(i))).toBe(false);

  // An index whose test image the page already showed, now a training image: the gallery shows the
  // training image. (~200 test and ~700 training mistakes share dozens of indices; the runs are
  // seeded, so which ones is fixed.)
  const stored = (await api('getRun', { id: run.id, batches: false })).evaluations.at(-1)!;
  expect(stored.split).toBe('train');
  const at = stored.misclassified.findIndex((m) => testIndices.includes(m.index));
  expect(at, 'no index is misclassified in both the test and the training images').toBeGreaterThanOrEqual(0);
  const shared = stored.misclassified[at]!.index;
  const range = page.getByTestId('misclassified-range');
  for (let shown = 1, target = Math.floor(at / 24); shown !== target; shown += shown < target ? 1 : -1) {
    await page.getByTestId(shown < target ? 'misclassified-next' : 'misclassified-previous').click();
    await expect(range).toContainText(`Images ${(shown + (shown < target ? 1 : -1)) * 24 + 1}–`);
  }
  const [trainImage] = await api('getThumbnails', { datasetId: run.datasetId, split: 'train', indices: [shared], scale: 3 });
  const [testImage] = await api('getThumbnails', { datasetId: run.datasetId, split: 'test', indices: [shared], scale: 3 });
  expect(trainImage!.base64).not.toBe(testImage!.base64);
  await expect(page.locator(`[data-testid="misclassified-item"][data-index="${shared}"] img`)).toHaveAttribute('src', `data:image/png;base64,${trainImage!.base64}`);
});

test('experiments: fork the run with another learning rate, then compare the two', async () => {
  await page.getByTestId('nav-experiments').click();
  const first = await page.getByTestId('pick-run').first().getAttribute('data-run-id');
  await page.locator(`[data-testid="fork-button"][data-run-id="${first}"]`).click();
  await expect(page.getByTestId('fork-form')).toBeVisible();
  // The fork form starts from the parent's settings.
  await expect(page.getByTestId('fork-epochs')).toHaveValue('2');
  await expect(page.getByTestId('fork-trainLimit')).toHaveValue('4000');
  await page.getByTestId('fork-epochs').fill('1');
  await page.getByTestId('fork-optimizer.learningRate').fill('0.03');
  await page.getByTestId('fork-submit').click();
  const dashboard = page.getByTestId('run-dashboard');
  await expect(dashboard).toContainText('(fork of #');
  await expect(dashboard.getByTestId('run-status')).toHaveText('completed', WORK);

  await page.getByTestId('nav-experiments').click();
  await page.getByTestId('pick-run').nth(0).check();
  await page.getByTestId('pick-run').nth(1).check();
  await page.getByTestId('compare-button').click();
  const comparison = page.getByTestId('comparison');
  await expect(comparison).toBeVisible();
  await expect(page.getByTestId('hyperparameter-diffs')).toContainText('optimizer.learningRate');
  await expect(page.getByTestId('hyperparameter-diffs')).toContainText('0.03');
  await expect(page.getByTestId('same-architecture')).toBeVisible();
  // Two runs on the left chart over one epoch axis: the fork of the parent's epoch-2 snapshot continues
  // its numbering, so its one epoch is epoch 3 — both series span epochs 1–3 (null where a run has none).
  await expect.poll(() => points(page.getByTestId('compare-chart').first())).toBe(6);
  await expect(page.getByTestId('per-class-diffs')).toContainText('Ankle boot');
  await shot(page, 'experiments');
  expect(pageErrors).toEqual([]);
});

test('train: a long run\'s live charts grow in place; pause holds exactly what is stored; resume continues', async () => {
  await page.getByTestId('nav-builder').click();
  await page.getByTestId('hp-name').fill('e2e live');
  // 100,000 epochs of 2,000 images: it cannot end before the test pauses and stops it.
  await page.getByTestId('hp-epochs').fill('100000');
  await page.getByTestId('hp-trainLimit').fill('2000');
  await page.getByTestId('start-run').click();
  const dashboard = page.getByTestId('run-dashboard');
  await expect(dashboard).toContainText('e2e live');
  const loss = page.getByTestId('loss-chart');
  await expect(dashboard.getByTestId('run-status')).toHaveText('running', WORK);
  await expect.poll(() => points(loss), WORK).toBeGreaterThan(3);
  const chartId = await loss.getAttribute('data-chart-id');
  const before = await points(loss);
  await expect.poll(() => points(loss), WORK).toBeGreaterThan(before);
  expect(await loss.getAttribute('data-chart-id')).toBe(chartId);

  await page.getByTestId('pause-run').click();
  await expect(dashboard.getByTestId('run-status')).toHaveText('paused', WORK);
  const label = page.getByTestId('batch-progress');
  await expect(label).toContainText(/Paused at epoch \d+, batch \d+ of 125/);
  // Paused: the service has stored every batch it reported, and the chart shows exactly those.
  const run = await runNamed('e2e live');
  const stored = await api('getRun', { id: run.id, batches: true });
  const last = stored.batches[stored.batches.length - 1]!;
  await expect(label).toContainText(`Paused at epoch ${last.epoch}, batch ${last.batch} of 125`);
  const paused = await storedLossPoints(run.id);
  await expect.poll(() => points(loss)).toBe(paused);
  expect(stored.snapshots.at(-1)?.kind).toBe('pause');
  await shot(page, 'train-paused');

  await page.getByTestId('resume-run').click();
  await expect.poll(() => points(loss), WORK).toBeGreaterThan(paused);
  await expect(dashboard.getByTestId('run-status')).toHaveText('running', WORK);
  expect(await loss.getAttribute('data-chart-id')).toBe(chartId);
});

test('stop: a running run stops at the end of its batch, keeps a snapshot and can be resumed later', async () => {
  const dashboard = page.getByTestId('run-dashboard');
  await expect(dashboard.getByTestId('run-status')).toHaveText('running');
  await page.getByTestId('stop-run').click();
  await expect(dashboard.getByTestId('run-status')).toHaveText('stopped', WORK);
  await expect(page.getByTestId('resume-run')).toBeVisible();
  await expect(page.getByTestId('export-onnx')).toBeEnabled();
  const run = await api('getRun', { id: (await runNamed('e2e live')).id, batches: false });
  expect(run.snapshots.map((s) => s.kind)).toContain('stop');
  expect(run.epochsDone).toBeLessThan(100_000);
  expect(pageErrors).toEqual([]);
});

test('evaluate: a long evaluation can be cancelled; nothing is stored', async () => {
  // Two 3×3 convolutions of 256 filters on the whole 28×28 image: ~470 M multiply-adds per image,
  // ~470 G for the 1,000 test images — tens of seconds of work even for a fast machine, while
  // Cancel is pressed as soon as it shows.
  await page.getByTestId('nav-builder').click();
  await page.getByTestId('builder-template').selectOption('reference');
  const cards = page.getByTestId('layer-card');
  await expect(cards).toHaveCount(6);
  await cards.nth(1).getByTestId('layer-remove').click();
  await expect(cards).toHaveCount(5);
  for (const i of [0, 1]) {
    await cards.nth(i).getByTestId('field-filters').fill('256');
    await cards.nth(i).getByTestId('field-padding').selectOption('same');
  }
  await expect(cards.nth(1).getByTestId('layer-shape')).toHaveText('28×28×256 → 28×28×256');
  await page.getByTestId('hp-name').fill('e2e heavy');
  await page.getByTestId('hp-epochs').fill('1');
  await page.getByTestId('hp-batchSize').fill('4');
  await page.getByTestId('hp-trainLimit').fill('');
  await page.getByTestId('hp-progressEvery').fill('1');
  await page.getByTestId('start-run').click();
  const dashboard = page.getByTestId('run-dashboard');
  await expect(dashboard).toContainText('e2e heavy');
  // One epoch is 1,125 batches of this model: stopped at its first reported batch, it has a snapshot to evaluate.
  await expect(page.getByTestId('batch-progress')).toContainText(/Epoch 1, batch \d+ of 1125/, WORK);
  await page.getByTestId('stop-run').click();
  await expect(dashboard.getByTestId('run-status')).toHaveText('stopped', WORK);

  await page.getByTestId('nav-evaluate').click();
  await expect(page.getByTestId('evaluate-run-select').locator('option:checked')).toContainText('e2e heavy');
  await page.getByTestId('evaluate-split').selectOption('test');
  await page.getByTestId('evaluate-button').click();
  await page.getByTestId('evaluate-cancel').click();
  const heavy = await runNamed('e2e heavy');
  await expect(page.getByTestId('evaluate-error')).toHaveText(`evaluation of run ${heavy.id} cancelled`, WORK);
  await expect(page.getByTestId('evaluate-button')).toBeEnabled();
  await expect(page.getByTestId('evaluation')).toHaveCount(0);
  expect((await api('getRun', { id: heavy.id, batches: false })).evaluations).toEqual([]);
  await shot(page, 'evaluate-cancelled');
  expect(pageErrors).toEqual([]);
});

/**
 * Why did it say that, and how did it get there, on the real backend: a small conv net trained for
 * three epochs, then in the page —
 *  - a confusion cell clicked (and one chosen with the keyboard) shows only that (true, predicted)
 *    pair, paged through every one of its images, and back to all misclassified;
 *  - the epoch slider moved with the arrow keys re-renders the filters (the pixels drawn are that
 *    epoch's service tiles, and differ from the last epoch's) and the scores from that snapshot,
 *    evaluated once and stored (moving back adds no evaluation);
 *  - a feature-map unit clicked, or chosen with the arrow keys, highlights on the input the rows and
 *    columns the engine's receptive-field code gives for it.
 * Named to run after training-look-inside.spec.ts and before views.spec.ts.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { receptiveFieldTable } from '../src-engine/inspect/receptive-field.js';
import type { ModelSpec } from '../src-main/contract/index.js';
import { api, openStudio, shot, WORK } from './studio.js';

const RUN_NAME = 'e2e time travel';
const SPEC: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' }, { type: 'maxpool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }],
};
const SIZES = [{ width: 1280, height: 800 }, { width: 1024, height: 700 }] as const;

let runId: number;

test.beforeAll(async () => {
  const sample = (await api('listDatasets', {})).find((d) => d.name === 'Fashion-MNIST sample')!;
  const run = await api('startRun', { datasetId: sample.id, name: RUN_NAME, spec: SPEC, hyperparameters: { epochs: 3, trainLimit: 600, batchSize: 50, seed: 9, validationSplit: 0.1 } });
  runId = run.id;
  await expect.poll(async () => (await api('getRun', { id: run.id, batches: false })).status, WORK).toBe('completed');
});

/** Every cell-item's (index, label, predicted) on the page shown. */
const shownCell = (page: Page) => page.getByTestId('cell-item').evaluateAll((els) => els.map((e) => ({
  index: Number(e.getAttribute('data-index')), label: Number(e.getAttribute('data-label')), predicted: Number(e.getAttribute('data-predicted')),
})));

/** Pages through the open cell to its end; returns every index shown. */
async function pageThrough(page: Page, label: number, predicted: number, count: number): Promise<number[]> {
  const indices: number[] = [];
  const pages = Math.ceil(count / 24);
  for (let p = 0; p < pages; p++) {
    if (p > 0) await page.getByTestId('cell-next').click();
    await expect(page.getByTestId('cell-range')).toContainText(`Images ${p * 24 + 1}–${Math.min(count, (p + 1) * 24)} of ${count} `, WORK);
    await expect(page.getByTestId('cell-gallery')).toHaveAttribute('data-page', String(p));
    await expect(page.getByTestId('cell-item').locator('.placeholder')).toHaveCount(0);
    const shown = await shownCell(page);
    expect(shown.length).toBe(Math.min(24, count - p * 24));
    for (const m of shown) expect([m.label, m.predicted]).toEqual([label, predicted]);
    await expect(page.getByTestId('cell-item').first().getByTestId('cell-top')).toHaveCount(3);
    indices.push(...shown.map((m) => m.index));
  }
  if (pages > 1) await expect(page.getByTestId('cell-next')).toBeDisabled();
  return indices;
}

test('a confusion cell shows only its pair, paged through all of them; the diagonal shows the right ones', async ({ page }) => {
  await openStudio(page, 'evaluate');
  const select = page.getByTestId('evaluate-run-select');
  await expect(select.locator(`option[value="${runId}"]`)).toHaveCount(1, WORK);
  await select.selectOption(String(runId));
  await page.getByTestId('evaluate-button').click();
  await expect(page.getByTestId('evaluated-on')).toContainText('on the test split (1,000 images', WORK);
  const e = (await api('getRun', { id: runId, batches: false })).evaluations.at(-1)!;

  // the largest confusion, by mouse
  let [label, predicted] = [0, 1];
  for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) if (i !== j && e.confusion[i]![j]! > e.confusion[label]![predicted]!) [label, predicted] = [i, j];
  const count = e.confusion[label]![predicted]!;
  const cell = (l: number, p: number) => page.locator(`[data-testid="confusion-cell"][data-label="${l}"][data-predicted="${p}"]`);
  await expect(cell(label, predicted)).toHaveText(String(count));
  await cell(label, predicted).click();
  const names = e.perClass.map((c) => c.className);
  await expect(page.getByTestId('cell-title')).toHaveText(`${names[label]} predicted as ${names[predicted]}`);
  await expect(cell(label, predicted)).toHaveAttribute('aria-pressed', 'true');
  const off = await pageThrough(page, label, predicted, count);
  expect(new Set(off).size).toBe(count);
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await shot(page, `evaluate-cell-${size.width}x${size.height}`);
  }

  // a diagonal cell with more than one page, chosen with the keyboard: the right answers of that class
  const right = e.confusion.findIndex((row, i) => row[i]! > 24);
  const rightCount = e.confusion[right]![right]!;
  await cell(right, right).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cell-title')).toHaveText(`${names[right]} predicted as ${names[right]} — right`);
  const diagonal = await pageThrough(page, right, right, rightCount);
  expect(new Set(diagonal).size).toBe(rightCount);
  // the service's own answer for the cell is what was shown, in order
  const all = await api('evaluationImages', { runId, evaluationId: e.id, label: right, predicted: right, offset: 0, limit: 200 });
  expect(diagonal).toEqual(all.images.map((m) => m.index));

  // and back to every misclassified example
  await page.getByTestId('cell-back').click();
  await expect(page.getByTestId('misclassified-range')).toContainText('Images 1–24 of');
  await expect(page.getByTestId('cell-gallery')).toHaveCount(0);
});

/** The filter tiles as drawn: each canvas's gray bytes, in order. */
const drawnTiles = (page: Page) => page.getByTestId('filter-tile').evaluateAll((canvases) => canvases.map((c) => {
  const canvas = c as HTMLCanvasElement;
  const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
  return Array.from({ length: canvas.width * canvas.height }, (_, i) => d[4 * i]!);
}));

/** The service's filter tiles of a snapshot, as the page draws them (one 3×3 gray tile per filter here). */
async function serviceTiles(snapshotId: number): Promise<number[][]> {
  const f = await api('inspectFilters', { runId, snapshotId });
  const bytes = [...Buffer.from(f.layers[0]!.tiles, 'base64')];
  return Array.from({ length: 4 }, (_, k) => bytes.slice(k * 9, (k + 1) * 9));
}

const confusionShown = async (scores: Locator) => (await scores.getByTestId('confusion-cell').allInnerTexts()).map((t) => Number(t || 0));

test('the epoch slider re-renders the filters and the scores from each epoch\'s snapshot; a clicked unit shows its receptive field', async ({ page }) => {
  const detail = await api('getRun', { id: runId, batches: false });
  const epochs = detail.snapshots.filter((s) => s.kind === 'epoch' && s.batch === 0);
  expect(epochs.map((s) => s.epoch)).toEqual([1, 2, 3]);

  await openStudio(page, 'inspect');
  const select = page.getByTestId('inspect-run-select');
  await expect(select.locator(`option[value="${runId}"]`)).toHaveCount(1, WORK);
  await select.selectOption(String(runId));
  const slider = page.getByTestId('epoch-slider');
  const value = page.getByTestId('epoch-slider-value');
  await expect(value).toHaveAttribute('data-epoch', '3', WORK);
  await expect(page.getByTestId('filters')).toHaveAttribute('data-snapshot', String(epochs[2]!.id), WORK);
  await expect(page.getByTestId('epoch-scores-head')).toHaveAttribute('data-snapshot', String(epochs[2]!.id), WORK);
  const last = await drawnTiles(page);
  expect(last).toEqual(await serviceTiles(epochs[2]!.id));
  const val = (epoch: number) => `${(detail.epochs.find((x) => x.epoch === epoch)!.valAccuracy! * 100).toFixed(1)}%`;
  await expect(page.getByTestId('epoch-val-accuracy')).toHaveText(val(3));

  // back two epochs with the arrow keys
  await slider.focus();
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(value).toHaveAttribute('data-epoch', '1');
  await expect(page.getByTestId('epoch-val-accuracy')).toHaveText(val(1));
  await expect(page.getByTestId('filters')).toHaveAttribute('data-snapshot', String(epochs[0]!.id), WORK);
  await expect(page.getByTestId('filter-tile')).toHaveCount(4);
  const first = await drawnTiles(page);
  expect(first).toEqual(await serviceTiles(epochs[0]!.id));
  expect(first).not.toEqual(last);
  // the scores are epoch 1's snapshot's, as stored by the service
  const scores = page.getByTestId('epoch-scores');
  await expect(scores.getByTestId('epoch-scores-head')).toHaveAttribute('data-snapshot', String(epochs[0]!.id), WORK);
  const stored1 = await api('evaluateRun', { runId, snapshotId: epochs[0]!.id, reuse: true });
  expect(await confusionShown(scores)).toEqual(stored1.confusion.flat());
  await expect(scores.getByTestId('epoch-accuracy')).toHaveText(`${(stored1.accuracy * 100).toFixed(2)}%`);
  await expect(scores.getByTestId('class-metrics').locator('tbody tr')).toHaveCount(10);
  // each epoch snapshot has been evaluated once on the way (the first arrow asked for epoch 2's too)
  const evaluated = async () => (await api('getRun', { id: runId, batches: false })).evaluations.filter((x) => x.split === 'test');
  const once = await evaluated();
  for (const s of epochs) expect(once.filter((x) => x.snapshotId === s.id), `epoch ${s.epoch}'s evaluations`).toHaveLength(1);

  // forward to the end and back: every stop's scores shown again, and no evaluation computed
  for (const [key, at] of [['ArrowRight', 1], ['End', 2], ['Home', 0]] as const) {
    await page.keyboard.press(key);
    await expect(value).toHaveAttribute('data-epoch', String(epochs[at]!.epoch));
    await expect(scores.getByTestId('epoch-scores-head')).toHaveAttribute('data-snapshot', String(epochs[at]!.id), WORK);
    await expect(page.getByTestId('filters')).toHaveAttribute('data-snapshot', String(epochs[at]!.id), WORK);
  }
  expect((await evaluated()).length).toBe(once.length);

  // an image's feature maps at epoch 1; a conv unit clicked: the engine's receptive field, drawn on the input
  await page.getByTestId('image-index').fill('0');
  await page.getByTestId('image-from-dataset').click();
  await expect(page.getByTestId('feature-maps')).toHaveAttribute('data-snapshot', String(epochs[0]!.id), WORK);
  // the probabilities above the maps are in too: nothing moves the tiles between aiming and clicking
  await expect(page.getByTestId('probability')).toHaveCount(10, WORK);
  const table = (layer: number) => {
    const t = receptiveFieldTable(SPEC, layer);
    if (t === null || t === 'whole') throw new Error(`layer ${layer} has no receptive-field table`);
    return t;
  };
  const convMap = page.locator('[data-testid="feature-map"][data-layer="0"][data-channel="2"]');
  const box = (await convMap.boundingBox())!;
  // unit (7, 19), at its centre: the canvas draws the 26×26 units over its whole box
  await convMap.click({ position: { x: ((19 + 0.5) * box.width) / 26, y: ((7 + 0.5) * box.height) / 26 } });
  const field = page.getByTestId('receptive-field');
  const conv = table(0);
  await expect(field).toHaveAttribute('data-rows', `${conv.rows[7]![0]}-${conv.rows[7]![1]}`);
  await expect(field).toHaveAttribute('data-cols', `${conv.cols[19]![0]}-${conv.cols[19]![1]}`);
  await expect(page.getByTestId('receptive-field-words')).toContainText('conv2d #1 unit (7, 19, 2) reads rows 7–9, columns 19–21');
  // the rectangle covers those pixels of the drawn input (140 px for 28: 5 px a pixel)
  const image = (await page.getByTestId('receptive-field-image').boundingBox())!;
  const rect = (await field.boundingBox())!;
  expect(Math.round((rect.y - image.y) / (image.height / 28))).toBe(conv.rows[7]![0]);
  expect(Math.round((rect.x - image.x) / (image.width / 28))).toBe(conv.cols[19]![0]);
  expect(Math.round(rect.height / (image.height / 28))).toBe(conv.rows[7]![1] - conv.rows[7]![0] + 1);
  expect(Math.round(rect.width / (image.width / 28))).toBe(conv.cols[19]![1] - conv.cols[19]![0] + 1);
  await expect(page.getByTestId('step-forward').first()).toContainText(/unit \(7, 19, 2\)/, WORK);

  // a pool unit chosen with the keyboard: focus its tile, the first arrow picks (0, 0), then walk to (2, 1)
  const poolMap = page.locator('[data-testid="feature-map"][data-layer="1"][data-channel="1"]');
  await poolMap.focus();
  for (const key of ['ArrowDown', 'ArrowDown', 'ArrowDown', 'ArrowRight']) await page.keyboard.press(key);
  const pool = table(1);
  await expect(field).toHaveAttribute('data-rows', `${pool.rows[2]![0]}-${pool.rows[2]![1]}`);
  await expect(field).toHaveAttribute('data-cols', `${pool.cols[1]![0]}-${pool.cols[1]![1]}`);
  await expect(page.getByTestId('receptive-field-words')).toContainText('maxpool2d #2 unit (2, 1, 1) reads rows 4–7, columns 2–5');
  await expect(poolMap.locator('xpath=..').getByTestId('selected-unit')).toHaveCount(1);

  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.getByTestId('time-travel').scrollIntoViewIfNeeded();
    await shot(page, `inspect-time-travel-${size.width}x${size.height}`);
  }
});

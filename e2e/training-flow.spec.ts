/**
 * One user's path through the studio on the real backend: build a model (see a shape error, fix
 * it), train it on the bundled sample while the live charts grow, pause and resume, evaluate,
 * fork, and compare the two runs. The steps share one page, as a user would.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { openStudio, shot } from './studio.js';

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

test('builder: a kernel that does not fit is named at its layer; fixing it shows shapes; Start trains', async () => {
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

  // The service's own refusal, shown at the field it names, and no run is made.
  await page.getByTestId('hp-batchSize').fill('0');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('start-error')).toHaveText('batch size must be an integer from 1 to 65536, got 0');
  await expect(page.getByTestId('hp-batchSize')).toHaveCSS('border-top-color', 'rgb(185, 28, 28)');

  await page.getByTestId('hp-name').fill('e2e baseline');
  await page.getByTestId('hp-epochs').fill('2');
  await page.getByTestId('hp-batchSize').fill('16');
  // Long enough (a few seconds here) to pause it mid-way; trainLimit keeps it short on slow machines.
  await page.getByTestId('hp-trainLimit').fill('4000');
  await page.getByTestId('hp-progressEvery').fill('2');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('run-dashboard')).toBeVisible();
  await expect(page.getByTestId('run-dashboard')).toContainText('e2e baseline');
});

test('train: the live charts grow in place, pause holds them, resume continues to completion', async () => {
  const dashboard = page.getByTestId('run-dashboard');
  const loss = page.getByTestId('loss-chart');
  await expect(dashboard.getByTestId('run-status')).toHaveText('running', { timeout: 30_000 });
  await expect.poll(() => points(loss)).toBeGreaterThan(3);
  const chartId = await loss.getAttribute('data-chart-id');
  const before = await points(loss);
  await expect.poll(() => points(loss)).toBeGreaterThan(before);
  expect(await loss.getAttribute('data-chart-id')).toBe(chartId);

  await page.getByTestId('pause-run').click();
  await expect(dashboard.getByTestId('run-status')).toHaveText('paused');
  await expect(page.getByTestId('batch-progress')).toContainText(/Paused at epoch [12], batch \d+ of 250/);
  const paused = await points(loss);
  await page.waitForTimeout(1200);
  expect(await points(loss)).toBe(paused);
  await shot(page, 'train-paused');

  await page.getByTestId('resume-run').click();
  await expect.poll(() => points(loss)).toBeGreaterThan(paused);
  await expect(dashboard.getByTestId('run-status')).toHaveText('completed', { timeout: 90_000 });
  // Same canvas, same chart all along: updated with update('none'), never re-created.
  expect(await loss.getAttribute('data-chart-id')).toBe(chartId);
  await expect(page.getByTestId('epoch-progress')).toContainText('2 of 2 epochs done');
  await expect(page.getByTestId('val-accuracy')).not.toHaveText('—');
  await shot(page, 'train-completed');

  // The trained model downloads as ONNX: a protobuf whose first field is ir_version (tag 0x08).
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-onnx').click()]);
  expect(download.suggestedFilename()).toMatch(/^run-\d+\.onnx$/);
  const bytes = readFileSync((await download.path())!);
  expect(bytes.length).toBeGreaterThan(18_090 * 4);
  expect(bytes[0]).toBe(0x08);
});

test('evaluate: test accuracy, per-class table, a 10×10 confusion matrix and misclassified images', async () => {
  await page.getByTestId('evaluate-run').click();
  const accuracy = page.getByTestId('test-accuracy');
  await expect(accuracy).toBeVisible({ timeout: 60_000 });
  const value = parseFloat(await accuracy.innerText());
  expect(value).toBeGreaterThan(30);
  await expect(page.getByTestId('class-metrics').locator('tbody tr')).toHaveCount(10);
  await expect(page.getByTestId('confusion-cell')).toHaveCount(100);
  // The matrix counts every test image once.
  const cells = await page.getByTestId('confusion-cell').allInnerTexts();
  expect(cells.reduce((s, t) => s + (t ? Number(t) : 0), 0)).toBe(1000);
  await expect(page.getByTestId('misclassified-item').first().locator('img')).toBeVisible();
  await shot(page, 'evaluate');
  // Evaluating again can be cancelled; the stored result stays on screen.
  await page.getByTestId('evaluate-button').click();
  await page.getByTestId('evaluate-cancel').click();
  await expect(page.getByTestId('evaluate-error')).toContainText(/evaluation of run \d+ cancelled/);
  await expect(page.getByTestId('evaluate-button')).toBeEnabled();
  await expect(accuracy).toHaveText(`${value.toFixed(2)}%`);
});

test('experiments: fork the run with another learning rate, then compare the two', async () => {
  await page.getByTestId('nav-experiments').click();
  const first = await page.getByTestId('pick-run').first().getAttribute('data-run-id');
  await page.locator(`[data-testid="fork-button"][data-run-id="${first}"]`).click();
  await expect(page.getByTestId('fork-form')).toBeVisible();
  await page.getByTestId('fork-epochs').fill('1');
  await page.getByTestId('fork-lr').fill('0.03');
  await page.getByTestId('fork-submit').click();
  const dashboard = page.getByTestId('run-dashboard');
  await expect(dashboard).toContainText('(fork of #');
  await expect(dashboard.getByTestId('run-status')).toHaveText('completed', { timeout: 90_000 });

  await page.getByTestId('nav-experiments').click();
  await page.getByTestId('pick-run').nth(0).check();
  await page.getByTestId('pick-run').nth(1).check();
  await page.getByTestId('compare-button').click();
  const comparison = page.getByTestId('comparison');
  await expect(comparison).toBeVisible();
  await expect(page.getByTestId('hyperparameter-diffs')).toContainText('optimizer.learningRate');
  await expect(page.getByTestId('hyperparameter-diffs')).toContainText('0.03');
  await expect(page.getByTestId('same-architecture')).toBeVisible();
  // Two runs on the left chart: 2 epochs + 1 epoch of validation accuracy, padded to 2 epochs each.
  await expect.poll(() => points(page.getByTestId('compare-chart').first())).toBe(4);
  await expect(page.getByTestId('per-class-diffs')).toContainText('Ankle boot');
  await shot(page, 'experiments');
  expect(pageErrors).toEqual([]);
});

test('stop: a running run stops at the end of its batch, keeps a snapshot and can be resumed later', async () => {
  await page.getByTestId('nav-builder').click();
  await page.getByTestId('hp-name').fill('e2e stopped');
  await page.getByTestId('hp-epochs').fill('20');
  await page.getByTestId('start-run').click();
  const dashboard = page.getByTestId('run-dashboard');
  await expect(dashboard).toContainText('e2e stopped');
  await expect(dashboard.getByTestId('run-status')).toHaveText('running', { timeout: 30_000 });
  await page.getByTestId('stop-run').click();
  await expect(dashboard.getByTestId('run-status')).toHaveText('stopped');
  await expect(page.getByTestId('resume-run')).toBeVisible();
  await expect(page.getByTestId('export-onnx')).toBeEnabled();
  expect(pageErrors).toEqual([]);
});

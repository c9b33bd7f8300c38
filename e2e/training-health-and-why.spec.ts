/**
 * Training health, saliency and the gradient check on the real backend. A run trained with a far
 * too high learning rate shows a finding that says so (with its fix) in the Train view, beside the
 * per-layer charts; on a sensible run, Look inside shows the saliency map of an image over it with
 * the top 3 (the service's numbers), and the gradient check passes layer by layer. Named to run
 * after training-flow.spec.ts (which starts from an empty run list); screenshots at both laptop sizes.
 */
import { expect, test, type Page } from '@playwright/test';
import { api, openStudio, WORK } from './studio.js';

const SPEC = {
  inputShape: [28, 28, 1] as [number, number, number],
  layers: [{ type: 'conv2d' as const, filters: 4, kernelSize: 3, activation: 'relu' as const }, { type: 'maxpool2d' as const, poolSize: 2 }, { type: 'flatten' as const }, { type: 'dense' as const, units: 10, activation: 'softmax' as const }],
};
const SIZES = [{ width: 1280, height: 800 }, { width: 1024, height: 700 }];

async function trained(name: string, hyperparameters: Record<string, unknown>): Promise<number> {
  const sample = (await api('listDatasets', {})).find((d) => d.name === 'Fashion-MNIST sample')!;
  const run = await api('startRun', { datasetId: sample.id, name, spec: SPEC, hyperparameters: { epochs: 1, trainLimit: 600, batchSize: 50, seed: 5, ...hyperparameters } });
  await expect.poll(async () => (await api('getRun', { id: run.id, batches: false })).status, WORK).toMatch(/^(completed|failed)$/);
  return run.id;
}

/** What a user at that window size sees, scrolled to the part shown (not the whole page). */
const view = (page: Page, name: string) => page.screenshot({ path: `e2e/screenshots/${name}.png` });

const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

test('a too-high learning rate: the Train view shows a health finding with its fix, and per-layer charts', async ({ page }) => {
  // sgd at lr 3: updates the size of the weights themselves
  const runId = await trained('e2e too high a learning rate', { healthEvery: 2, optimizer: { type: 'sgd', learningRate: 3, momentum: 0.9 } });
  const health = await api('runHealth', { runId });
  expect(health.findings.length, 'the service finds something').toBeGreaterThan(0);

  await openStudio(page, 'train');
  await page.locator(`[data-testid="run-item"][data-run-id="${runId}"]`).click();
  const panel = page.getByTestId('training-health');
  await expect(panel.getByTestId('health-finding').first()).toBeVisible(WORK);
  const shown = await panel.getByTestId('health-finding').evaluateAll((els) => els.map((e) => e.getAttribute('data-rule')));
  expect(shown).toEqual(health.findings.map((f) => f.rule));
  await expect(panel.getByTestId('health-finding').first()).toContainText(health.findings[0]!.message);
  await expect(panel.getByTestId('health-finding').first()).toContainText(/Fix: lower the learning rate/);
  if (health.records.length) {
    await expect(panel.getByTestId('health-chart')).toHaveCount(4);
    await expect.poll(async () => Number(await panel.locator('[data-metric="updateRatio"]').getAttribute('data-points'))).toBeGreaterThan(0);
  }
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await panel.scrollIntoViewIfNeeded();
    expect(await fitsWidth(page)).toBe(true);
    await view(page, `train-health-${size.width}x${size.height}`);
  }
});

test('look inside: the saliency map over an image with the top 3, its opacity and class; the gradient check passes', async ({ page }) => {
  const runId = await trained('e2e why did it say that', { healthEvery: 5 });
  await openStudio(page, 'inspect');
  const select = page.getByTestId('inspect-run-select');
  await expect(select.locator(`option[value="${runId}"]`)).toHaveCount(1, WORK);
  await select.selectOption(String(runId));

  // what the page should show, asked before the page asks anything but the filters (so the test's own
  // requests never meet the page's at the service's limit of inspections at once)
  await expect(page.getByTestId('filter-tile').first()).toBeVisible(WORK);
  const sample = (await api('listDatasets', {})).find((d) => d.name === 'Fashion-MNIST sample')!;
  const image = { type: 'dataset' as const, datasetId: sample.id, split: 'test' as const, index: 2 };
  const expected = await api('saliency', { runId, image });
  const other = (expected.predicted + 1) % 10;
  const otherExpected = await api('saliency', { runId, image, classIndex: other });

  await page.getByTestId('image-index').fill('2');
  await page.getByTestId('image-from-dataset').click();
  const map = page.getByTestId('saliency-map');
  await expect(map).toHaveAttribute('data-max', String(expected.max), WORK);
  await expect(map).toHaveAttribute('data-class', String(expected.predicted));
  const top = page.getByTestId('saliency-top-class');
  await expect(top).toHaveCount(3);
  expect(await top.evaluateAll((els) => els.map((e) => [e.getAttribute('data-class'), Number(e.getAttribute('data-p'))])))
    .toEqual(expected.top.map((c) => [c.className, c.probability]));
  // the overlay's opacity follows the slider: the blended pixels change
  const centre = () => map.evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data).join(','));
  const before = await centre();
  await page.getByTestId('saliency-opacity').fill('0.25');
  await expect(map).toHaveAttribute('data-opacity', '0.25');
  expect(await centre()).not.toBe(before);
  // another class: its own map
  await page.getByTestId('saliency-class').selectOption(String(other));
  await expect(map).toHaveAttribute('data-class', String(other), WORK);
  await expect(map).toHaveAttribute('data-max', String(otherExpected.max));
  await page.getByTestId('saliency-class').selectOption('');
  await expect(map).toHaveAttribute('data-class', String(expected.predicted), WORK);

  // the gradient check: a row per parameter and the input, each passing
  await page.getByTestId('gradient-check-button').click();
  await expect(page.getByTestId('gradient-check-verdict')).toContainText('Every layer passes', WORK);
  const rows = page.getByTestId('gradient-check-row');
  await expect(rows).toHaveCount(5);
  expect(await rows.evaluateAll((els) => els.map((e) => [e.getAttribute('data-layer'), e.getAttribute('data-passed')]))).toEqual([
    ['conv2d #1', 'true'], ['conv2d #1', 'true'], ['dense #4', 'true'], ['dense #4', 'true'], ['input', 'not judged'],
  ]);
  for (const size of SIZES) {
    await page.setViewportSize(size);
    expect(await fitsWidth(page)).toBe(true);
    await page.getByTestId('saliency').scrollIntoViewIfNeeded();
    await view(page, `inspect-saliency-${size.width}x${size.height}`);
    await page.getByTestId('gradient-check').scrollIntoViewIfNeeded();
    await view(page, `inspect-gradient-check-${size.width}x${size.height}`);
  }
});

/**
 * Look inside a run on the real backend: a small conv net trained for one epoch, then, in the page,
 * its filters; a stroke drawn on the pad gives class probabilities equal to the service's for those
 * very pixels; feature maps with a unit's value and receptive field on hover; a PNG chosen as a
 * file is prepared as training prepares images (the steps are shown); the step-through's loss is
 * the service's; clicking a feature-map unit steps through that unit. Named to run after
 * training-flow.spec.ts (which starts from an empty run list) and before views.spec.ts (which shows this run).
 */
import sharp from 'sharp';
import { expect, test, type Page } from '@playwright/test';
import { api, openStudio, shot, WORK } from './studio.js';

const RUN_NAME = 'e2e look inside';

/** The prepared image's canvas read back as 28×28 gray bytes, base64. */
const shownPixels = (page: Page) => page.getByTestId('prepared-image').evaluate((c: HTMLCanvasElement) => {
  const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
  let s = '';
  for (let i = 0; i < c.width * c.height; i++) s += String.fromCharCode(d[4 * i]!);
  return { base64: btoa(s), width: c.width, height: c.height };
});

const shownProbabilities = async (page: Page) => {
  const items = page.getByTestId('probability');
  const out: Record<string, number> = {};
  for (const item of await items.all()) out[(await item.getAttribute('data-class'))!] = Number(await item.getAttribute('data-p'));
  return out;
};

test('look inside: filters, a drawn stroke\'s probabilities, feature maps, a chosen file, the step-through', async ({ page }) => {
  const datasets = await api('listDatasets', {});
  const sample = datasets.find((d) => d.name === 'Fashion-MNIST sample')!;
  const run = await api('startRun', {
    datasetId: sample.id, name: RUN_NAME,
    spec: { inputShape: [28, 28, 1], layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' }, { type: 'maxpool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    hyperparameters: { epochs: 1, trainLimit: 600, batchSize: 50, seed: 5 },
  });
  await expect.poll(async () => (await api('getRun', { id: run.id, batches: false })).status, WORK).toBe('completed');

  await openStudio(page, 'inspect');
  const select = page.getByTestId('inspect-run-select');
  await expect(select.locator('option', { hasText: RUN_NAME })).toHaveCount(1, WORK);
  await select.selectOption(String(run.id));

  // filters: 4 filters 3×3 over one channel, a tile each; hovering a tap gives its weight
  await expect(page.getByTestId('filter-tile')).toHaveCount(4, WORK);
  await page.getByTestId('filter-tile').first().hover();
  await expect(page.getByTestId('filter-hover')).toHaveText(/conv2d #1 filter 0, input channel 0, tap \(\d, \d\): -?\d/);

  // a stroke on the pad → probabilities for those pixels, equal to the service's
  const pad = page.getByTestId('drawing-pad');
  const box = (await pad.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let t = 0; t <= 10; t++) await page.mouse.move(box.x + box.width * (0.5 - 0.02 * t), box.y + box.height * (0.15 + 0.07 * t));
  await page.mouse.up();
  await expect(page.getByTestId('probability')).toHaveCount(10, WORK);
  await expect(page.getByTestId('preprocessing-steps')).toContainText("drawn 28×28, gray");
  await expect(page.getByTestId('preprocessing-steps')).toContainText("kept at 28×28 (the model's input size)");
  const drawn = await shownPixels(page);
  expect([drawn.width, drawn.height]).toEqual([28, 28]);
  expect(Buffer.from(drawn.base64, 'base64').some((v) => v > 200)).toBe(true);
  const service = await api('predict', { runId: run.id, image: { type: 'pixels', width: 28, height: 28, channels: 1, base64: drawn.base64 } });
  const shown = await shownProbabilities(page);
  expect(Object.keys(shown)).toHaveLength(10);
  for (const c of service.ranked) expect(shown[c.className]).toBe(c.probability);

  // feature maps of the drawing: conv 26×26×4 and pool 13×13×4; hover gives a unit's value and what it reads
  await expect(page.getByTestId('feature-map-layer')).toHaveCount(2, WORK);
  await expect(page.getByTestId('feature-map')).toHaveCount(8);
  await page.getByTestId('feature-map').nth(5).hover();
  await expect(page.getByTestId('feature-map-hover')).toHaveText(/^maxpool2d #2 unit \(\d+, \d+, 1\) = -?[\d.e+-]+; reads image rows \d+–\d+, columns \d+–\d+$/);
  await shot(page, 'inspect-try-drawn');

  // step through the drawing: the loss shown is the service's for those pixels, forward then backward
  await page.getByTestId('step-through-button').click();
  await expect(page.getByTestId('step-through')).toBeVisible(WORK);
  const steps = await api('stepThrough', { runId: run.id, image: { type: 'pixels', width: 28, height: 28, channels: 1, base64: drawn.base64 } });
  await expect(page.getByTestId('step-loss')).toContainText(steps.steps.loss.toFixed(6));
  await expect(page.getByTestId('step-forward')).toHaveCount(4);
  expect(await page.getByTestId('step-forward').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))).toEqual(['conv', 'maxpool', 'reshape', 'dense']);
  expect(await page.getByTestId('step-backward').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))).toEqual(['dense', 'reshape', 'maxpool', 'conv']);
  await expect(page.getByTestId('step-conv-eq')).toHaveText(/z = Σ X·K \+ b = .* = .*; (ReLU: a = max\(0, z\)|a = z)/);
  await expect(page.getByTestId('step-patch')).toHaveCount(1);
  await page.getByTestId('step-head').scrollIntoViewIfNeeded();
  await shot(page, 'inspect-step-through');

  // clicking a conv unit steps through that unit
  const convMap = page.getByTestId('feature-map').nth(2);
  const m = (await convMap.boundingBox())!;
  await convMap.click({ position: { x: m.width * 0.5 + 1, y: m.height * 0.5 + 1 } });
  await expect(page.getByTestId('step-forward').first()).toContainText(/unit \(13, 13, 2\)/, WORK);

  // a colour PNG chosen as a file: resized and made gray as the import would, and said so
  const raw = Buffer.alloc(60 * 45 * 3);
  for (let i = 0; i < 60 * 45; i++) [raw[3 * i], raw[3 * i + 1], raw[3 * i + 2]] = [(i * 5) % 256, (i * 11) % 256, 90];
  const png = await sharp(raw, { raw: { width: 60, height: 45, channels: 3 } }).png().toBuffer();
  await page.getByTestId('image-file').setInputFiles({ name: 'stripes.png', mimeType: 'image/png', buffer: png });
  await expect(page.getByTestId('preprocessing-steps')).toContainText('resized 60×45 → 28×28 (stretched, as the import resizes)', WORK);
  await expect(page.getByTestId('preprocessing-steps')).toContainText('converted to grayscale');
  const fromFile = await api('predict', { runId: run.id, image: { type: 'file', base64: png.toString('base64'), name: 'stripes.png' } });
  await expect(page.getByTestId('probability').first()).toHaveAttribute('data-p', String(fromFile.ranked[0]!.probability));

  // and one of the dataset's own, with its label
  await page.getByTestId('image-index').fill('4');
  await page.getByTestId('image-from-dataset').click();
  await expect(page.getByTestId('preprocessing-steps')).toContainText('image 4 of the test split', WORK);
  await expect(page.getByTestId('try-result')).toContainText(/labelled \S/);
});

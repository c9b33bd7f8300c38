/**
 * The library as people use it every day, in the page on the real backend: the datasets table's
 * counts and even thumbnail rows; a sweep queued from a run (its count and cap shown first) that
 * trains its runs one after another and is compared in a scatter with the best run marked; a run's
 * test accuracy updating in the table when an evaluation ends; the semantic diff of two runs; the
 * fork form's epochs; renaming, tagging, annotating, filtering, sorting and deleting runs and a
 * dataset (each delete names what it touches); charts saved as PNG; the theme; labels and focus.
 *
 * Named to run after training-flow.spec.ts and training-look-inside.spec.ts (which start from their
 * own run lists) and before views.spec.ts; it deletes only the runs and the dataset it made. Every
 * wait is on a state the page shows or the service stores, never on a sleep.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { RunSummary } from '../src-main/contract/index.js';
import { api, openStudio, shot, WORK } from './studio.js';

test.describe.configure({ mode: 'serial' });

const SIZES = [{ width: 1280, height: 800 }, { width: 1024, height: 700 }] as const;
const WITH_DROPOUT = { inputShape: [28, 28, 1] as [number, number, number], layers: [{ type: 'flatten' as const }, { type: 'dropout' as const, rate: 0.2 }, { type: 'dense' as const, units: 10, activation: 'softmax' as const }] };
const WITHOUT_DROPOUT = { inputShape: [28, 28, 1] as [number, number, number], layers: [{ type: 'flatten' as const }, { type: 'dense' as const, units: 10, activation: 'softmax' as const }] };
const SMALL = { epochs: 1, trainLimit: 600, batchSize: 50, seed: 3 };

let page: Page;
const pageErrors: string[] = [];
let sampleId: number;
/** The run the sweep starts from, and one without its dropout layer (the diff's other side). */
let base: RunSummary;
let plain: RunSummary;
let sweepId: number;

const completed = async (id: number) => expect.poll(async () => (await api('getRun', { id, batches: false })).status, WORK).toBe('completed');
const row = (id: number) => page.locator(`[data-testid="experiment-run"][data-run-id="${id}"]`);
const percentText = (x: number) => `${(x * 100).toFixed(1)}%`;

async function shots(name: string, ready: (p: Page) => Promise<void> = async () => {}): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await ready(page);
    // charts follow a new window size when their resize observer fires: wait for the page to settle, then name what still sticks out
    const measure = () => page.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      widest: [...document.querySelectorAll('main *')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(-3).map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}[${el.getAttribute('data-testid') ?? ''}]`),
    }));
    await expect.poll(async () => (await measure()).overflow).toBeLessThanOrEqual(0).catch(() => {});
    const { overflow, widest } = await measure();
    expect(overflow, `${name} is ${overflow}px wider than the window at ${size.width}×${size.height}: ${widest.join(', ')}`).toBeLessThanOrEqual(0);
    await shot(page, `daily-${size.width}x${size.height}-${name}`);
  }
  await page.setViewportSize(SIZES[0]);
}

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: SIZES[0] });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  sampleId = (await api('listDatasets', {})).find((d) => d.name === 'Fashion-MNIST sample')!.id;
  base = await api('startRun', { datasetId: sampleId, name: 'daily base', spec: WITH_DROPOUT, hyperparameters: SMALL });
  plain = await api('startRun', { datasetId: sampleId, name: 'daily plain', spec: WITHOUT_DROPOUT, hyperparameters: SMALL });
  await completed(base.id);
  await completed(plain.id);
});

test.afterAll(async () => {
  await page.close();
});

test('datasets: the Images column counts train / test images; the examples sit in even rows of fixed cells', async () => {
  await openStudio(page, 'datasets');
  const sample = (await api('listDatasets', {})).find((d) => d.id === sampleId)!;
  const r = page.getByTestId('dataset-row').filter({ hasText: 'Fashion-MNIST sample' });
  await expect(r.getByTestId('dataset-images')).toHaveText(`${sample.trainCount.toLocaleString('en-US')} / ${sample.testCount.toLocaleString('en-US')}`);
  await r.click();
  await expect(page.getByTestId('thumbnail')).toHaveCount(50);
  // every class's cell is as wide as the others, and its examples are one row at fixed steps from its left edge
  const layout = await page.getByTestId('thumbnail-class').evaluateAll((cells) => cells.map((cell) => {
    const box = cell.getBoundingClientRect();
    const images = [...cell.querySelectorAll('img')].map((img) => img.getBoundingClientRect());
    return { width: Math.round(box.width), tops: [...new Set(images.map((i) => Math.round(i.top)))], lefts: images.map((i) => Math.round(i.left - box.left)), sizes: [...new Set(images.map((i) => `${Math.round(i.width)}×${Math.round(i.height)}`))] };
  }));
  expect(layout).toHaveLength(10);
  // a cell is exactly five image cells wide (48 px and a 4 px gap each), so the columns line up from row to row
  expect(layout.map((c) => c.width)).toEqual(Array(10).fill(5 * 52));
  for (const c of layout) {
    expect(c.tops).toHaveLength(1);
    expect(c.sizes).toEqual(['48×48']);
    expect(c.lefts).toEqual([0, 52, 104, 156, 208]);
  }
  // the cells of one grid row start at the same height
  const rowsOf = await page.getByTestId('thumbnail-class').evaluateAll((cells) => cells.map((c) => Math.round(c.getBoundingClientRect().top)));
  expect(new Set(rowsOf).size).toBeLessThan(rowsOf.length);
  await shots('datasets', async (p) => expect(p.getByTestId('thumbnail').first()).toBeVisible());
});

test('sweeps: from a run, the plan and its cap before queuing; the runs train one after another with progress; a scatter marks the best; the chart saves as PNG', async () => {
  await openStudio(page, 'experiments');
  await page.locator(`[data-testid="sweep-button"][data-run-id="${base.id}"]`).click();
  const form = page.getByTestId('sweep-form');
  await expect(form).toContainText(`Sweep from #${base.id} daily base`);
  await expect(page.getByTestId('sweep-plan')).toHaveText('3 runs will be queued (cap 12).');
  await page.getByTestId('sweep-values-learningRate').fill('0.003, 0.03');
  await page.getByTestId('sweep-on-dropoutRate').check();
  await page.getByTestId('sweep-values-dropoutRate').fill('0.1, 0.4');
  await expect(page.getByTestId('sweep-plan')).toHaveText('4 runs will be queued (cap 12).');
  await page.getByTestId('sweep-cap').fill('3');
  await expect(page.getByTestId('sweep-plan')).toHaveText('the grid has 4 combinations, more than the cap of 3: list fewer values or raise the cap');
  await expect(page.getByTestId('sweep-submit')).toBeDisabled();
  await page.getByTestId('sweep-cap').fill('4');
  await expect(page.getByTestId('sweep-submit')).toHaveText('Queue 4 runs');
  await shots('sweep-form');
  await page.getByTestId('sweep-submit').click();

  const shown = page.getByTestId('sweep-shown');
  await expect(shown).toBeVisible();
  sweepId = Number(await shown.getAttribute('data-sweep-id'));
  await expect(page.getByTestId('sweep-run')).toHaveCount(4);
  await expect(page.getByTestId('sweep-progress')).toContainText('4 of 4 runs done', WORK);

  // one after another: each run started after the one before it finished (from what the service stored)
  const sweep = await api('getSweep', { id: sweepId });
  const runs = sweep.runs.map(({ run }) => run);
  expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
  for (let i = 1; i < runs.length; i++) expect(Date.parse(runs[i]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1]!.finishedAt!));
  expect(sweep.runs.map(({ values }) => `${values.learningRate}/${values.dropoutRate}`).sort()).toEqual(['0.003/0.1', '0.003/0.4', '0.03/0.1', '0.03/0.4']);

  // the best run is the one the service names, marked in the table and drawn apart in the scatter
  const best = runs.reduce((a, b) => (b.bestValAccuracy! > a.bestValAccuracy! ? b : a));
  expect(sweep.bestRunId).toBe(best.id);
  await expect(page.getByTestId('sweep-best')).toHaveCount(1);
  await expect(page.locator(`[data-testid="sweep-run"][data-run-id="${best.id}"]`).getByTestId('sweep-best')).toBeVisible();
  const scatter = page.getByTestId('sweep-scatter');
  await expect(scatter).toHaveAttribute('data-best-run', String(best.id));
  await expect(scatter).toHaveAttribute('data-points', '4');
  await page.getByTestId('scatter-parameter').selectOption('dropoutRate');
  await expect(page.getByTestId('sweep-scatter')).toHaveAttribute('aria-label', 'dropout rate vs best validation accuracy');
  await expect(page.getByTestId('sweep-scatter')).toHaveAttribute('data-points', '4');

  // any chart saves as a PNG: this one, under its label
  const download = page.waitForEvent('download');
  await page.getByTestId('sweeps').getByTestId('chart-png').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('dropout-rate-vs-best-validation-accuracy.png');
  const bytes = readFileSync(await file.path());
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const meta = await sharp(bytes).metadata();
  expect(meta.width).toBeGreaterThan(200);
  await shots('sweeps', async (p) => expect(p.getByTestId('sweep-scatter')).toHaveAttribute('data-points', '4'));
});

test('an evaluation that ends updates the run\'s test accuracy in the table, without a reload', async () => {
  await openStudio(page, 'experiments');
  await expect(row(base.id).getByTestId('test-accuracy')).toHaveText('—');
  const evaluation = await api('evaluateRun', { runId: base.id, split: 'test' });
  await expect(row(base.id).getByTestId('test-accuracy')).toHaveText(percentText(evaluation.accuracy), WORK);
  await api('evaluateRun', { runId: plain.id, split: 'test' });
  await expect(row(plain.id).getByTestId('test-accuracy')).not.toHaveText('—', WORK);
});

test('diff: layers aligned by sequence, settings, per-class deltas and the flipped test images as a gallery', async () => {
  await openStudio(page, 'experiments');
  await page.locator(`[data-testid="pick-run"][data-run-id="${base.id}"]`).check();
  await page.locator(`[data-testid="pick-run"][data-run-id="${plain.id}"]`).check();
  await page.getByTestId('diff-button').click();
  const view = page.getByTestId('run-diff');
  await expect(view).toContainText(`What changed from #${base.id} to #${plain.id}`);
  const expected = await api('diffRuns', { a: base.id, b: plain.id });
  // the removed dropout is one row; the dense layer after it lines up again
  await expect(view.getByTestId('layer-diff-row')).toHaveCount(3);
  const changes = await view.getByTestId('layer-diff-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-change')));
  expect(changes).toEqual(['same', 'removed', 'same']);
  await expect(view.getByTestId('layer-diff-row').nth(1)).toContainText('dropout');
  expect(expected.hyperparameters).toEqual([]);
  await expect(view.getByTestId('no-setting-diffs')).toBeVisible();

  const e = expected.evaluation!;
  await expect(view.getByTestId('class-diff-row')).toHaveCount(10);
  const first = e.perClass[0]!;
  await expect(view.getByTestId('class-diff-row').first()).toContainText(`${first.f1Delta > 0 ? '+' : ''}${(first.f1Delta * 100).toFixed(1)}`);
  await expect(view.getByTestId('flipped-fixed-count')).toHaveText(`(${e.fixedCount.toLocaleString('en-US')})`);
  await expect(view.getByTestId('flipped-broken-count')).toHaveText(`(${e.brokenCount.toLocaleString('en-US')})`);
  expect(e.fixedCount + e.brokenCount).toBeGreaterThan(0);
  const side = e.fixedCount > 0 ? 'fixed' : 'broken';
  const items = view.getByTestId(`flipped-${side}`).getByTestId('flipped-item');
  await expect(items).toHaveCount(Math.min(24, e[side].length));
  // the first image is that test image (the service's own thumbnail of it)
  const [t] = await api('getThumbnails', { datasetId: e.datasetId, split: e.imageSplit, indices: [e[side][0]!.index], scale: 2 });
  await expect(items.first().locator('img')).toHaveAttribute('src', `data:image/png;base64,${t!.base64}`);
  await shots('diff', async (p) => expect(p.getByTestId('flipped-item').first().locator('img')).toBeVisible());

  // a sweep run against its base: the learning rate and the dropout rate changed in place
  const sweep = await api('getSweep', { id: sweepId });
  const other = sweep.runs.find(({ values }) => values.learningRate === 0.003 && values.dropoutRate === 0.4)!.run;
  await page.locator(`[data-testid="pick-run"][data-run-id="${plain.id}"]`).uncheck();
  await page.locator(`[data-testid="pick-run"][data-run-id="${other.id}"]`).check();
  await page.getByTestId('diff-button').click();
  await expect(view).toContainText(`What changed from #${base.id} to #${other.id}`);
  await expect(view.getByTestId('setting-diff')).toContainText('optimizer.learningRate');
  await expect(view.locator('[data-change="changed"]')).toContainText('dropout');
  await expect(view.getByTestId('diff-note')).toContainText(`evaluate #${other.id}`);
});

test('fork: the form says its epochs are extra, counted from the snapshot\'s epoch', async () => {
  await openStudio(page, 'experiments');
  await page.locator(`[data-testid="fork-button"][data-run-id="${base.id}"]`).click();
  await expect(page.getByTestId('fork-epochs-meaning')).toHaveText('Epochs are extra: the fork trains 1 more after epoch 1, to epoch 2.');
  await page.getByTestId('fork-epochs').fill('2');
  await expect(page.getByTestId('fork-epochs-meaning')).toHaveText('Epochs are extra: the fork trains 2 more after epoch 1, to epoch 3.');
  await page.getByTestId('fork-submit').click();
  await expect(page.getByTestId('run-dashboard').getByTestId('run-status')).toHaveText('completed', WORK);
  await expect(page.getByTestId('epoch-progress')).toContainText('3 of 3 epochs done');
});

test('tidy: rename, tag, annotate; filter by tag and dataset, sort by parameters; delete a run (its fork named) and a dataset (its runs named)', async () => {
  await openStudio(page, 'train');
  await page.locator(`[data-testid="run-item"][data-run-id="${plain.id}"]`).click();
  const tidy = page.getByTestId('run-tidy');
  await tidy.getByTestId('rename-run').click();
  await tidy.getByTestId('run-name-input').fill('daily plain, renamed');
  await tidy.getByTestId('run-name-save').click();
  await expect(tidy.getByTestId('run-name')).toHaveText('daily plain, renamed');
  await expect(page.locator(`[data-testid="run-item"][data-run-id="${plain.id}"]`)).toContainText('daily plain, renamed');
  for (const tag of ['keeper', 'baseline-ish']) {
    await tidy.getByTestId('tag-input').fill(tag);
    await tidy.getByTestId('add-tag').click();
    await expect(tidy.getByTestId('run-tag').filter({ hasText: tag })).toBeVisible();
  }
  await tidy.getByTestId('run-tag').filter({ hasText: 'baseline-ish' }).getByTestId('remove-tag').click();
  await expect(tidy.getByTestId('run-tag')).toHaveCount(1);
  await tidy.getByTestId('run-notes').fill('no dropout: the diff baseline');
  await tidy.getByTestId('save-notes').click();
  await expect(tidy.getByTestId('save-notes')).toHaveCount(0);
  const stored = await api('getRun', { id: plain.id, batches: false });
  expect({ name: stored.name, tags: stored.tags, notes: stored.notes }).toEqual({ name: 'daily plain, renamed', tags: ['keeper'], notes: 'no dropout: the diff baseline' });
  await shots('train-tidy', async (p) => expect(p.getByTestId('run-tidy')).toBeVisible());

  // a second dataset with one run on it, to filter by and to delete
  const dir = mkdtempSync(join(tmpdir(), 'cnn-studio-e2e-tiny-'));
  try {
    for (const c of ['0', '1', '2']) {
      mkdirSync(join(dir, c));
      for (let i = 0; i < 12; i++) {
        await sharp(Buffer.alloc(64, (Number(c) * 80 + i * 5) % 256), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(join(dir, c, `${i}.png`));
      }
    }
    const { dataset } = await api('importDataset', { path: dir, name: 'daily tiny' });
    const tinyRun = await api('startRun', {
      datasetId: dataset.id, name: 'daily tiny run', hyperparameters: { epochs: 1, batchSize: 6, seed: 1, validationSplit: 0 },
      spec: { inputShape: [8, 8, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    });
    await completed(tinyRun.id);

    await page.getByTestId('nav-experiments').click();
    await page.getByTestId('run-tag-filter').selectOption('keeper');
    await expect(page.getByTestId('experiment-run')).toHaveCount(1);
    await expect(row(plain.id)).toBeVisible();
    await page.getByTestId('run-tag-filter').selectOption('');
    await page.getByTestId('run-dataset-filter').selectOption({ label: 'daily tiny' });
    await expect(page.getByTestId('experiment-run')).toHaveCount(1);
    await expect(row(tinyRun.id)).toBeVisible();
    await page.getByTestId('run-dataset-filter').selectOption('');
    await page.getByTestId('run-sort').selectOption('params');
    const all = await api('listRuns', { sort: 'params' });
    await expect(page.getByTestId('experiment-run').first()).toHaveAttribute('data-run-id', String(all[0]!.id));
    await page.getByTestId('run-order').click();
    await expect(page.getByTestId('experiment-run').first()).toHaveAttribute('data-run-id', String(all[all.length - 1]!.id));
    await page.getByTestId('run-sort').selectOption('bestAccuracy');
    const byBest = await api('listRuns', { sort: 'bestAccuracy' });
    await expect(page.getByTestId('experiment-run').first()).toHaveAttribute('data-run-id', String(byBest[0]!.id));
    await page.getByTestId('run-sort').selectOption('created');

    // the base run has a fork (the previous test's): the question names it; "Keep it" keeps everything
    const fork = (await api('listRuns', {})).find((r) => r.parentRunId === base.id)!;
    await page.getByTestId('nav-train').click();
    await page.locator(`[data-testid="run-item"][data-run-id="${base.id}"]`).click();
    await page.getByTestId('delete-run').click();
    const question = page.getByTestId('delete-confirm');
    await expect(question.getByTestId('delete-affected')).toContainText('It has 1 fork, which keeps its own snapshots but will no longer show where it came from');
    await expect(question.getByTestId('delete-affected')).toContainText(`#${fork.id} “${fork.name}”`);
    await page.getByTestId('delete-cancel').click();
    await expect(question).toHaveCount(0);
    expect((await api('listRuns', {})).some((r) => r.id === base.id)).toBe(true);
    await page.getByTestId('delete-run').click();
    await shots('delete-run', async (p) => expect(p.getByTestId('delete-confirm')).toBeVisible());
    await page.getByTestId('delete-confirm-button').click();
    await expect(page.locator(`[data-testid="run-item"][data-run-id="${base.id}"]`)).toHaveCount(0);
    const after = await api('listRuns', {});
    expect(after.some((r) => r.id === base.id)).toBe(false);
    expect(after.find((r) => r.id === fork.id)?.status).toBe('completed');

    // the dataset: its run is named, and goes with it
    await page.getByTestId('nav-datasets').click();
    await page.getByTestId('dataset-row').filter({ hasText: 'daily tiny' }).click();
    await page.getByTestId('delete-dataset').click();
    await expect(page.getByTestId('delete-affected')).toHaveText(`1 run uses it and will be deleted with it: #${tinyRun.id} “daily tiny run”.`);
    await shots('delete-dataset', async (p) => expect(p.getByTestId('delete-confirm')).toBeVisible());
    await page.getByTestId('delete-confirm-button').click();
    await expect(page.getByTestId('dataset-row').filter({ hasText: 'daily tiny' })).toHaveCount(0);
    expect((await api('listDatasets', {})).some((d) => d.id === dataset.id)).toBe(false);
    expect((await api('listRuns', {})).some((r) => r.id === tinyRun.id)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Controls without a name a screen reader could say. */
const unlabelled = (scope: Locator) => scope.evaluate((root) => [...root.querySelectorAll('button, input, select, textarea')]
  .filter((el) => (el as HTMLElement).offsetParent !== null)
  .filter((el) => {
    const c = el as HTMLInputElement;
    if (c.getAttribute('aria-label')?.trim() || c.getAttribute('aria-labelledby')) return false;
    if (c.labels && [...c.labels].some((l) => l.textContent?.trim())) return false;
    return !(c.tagName === 'BUTTON' && c.textContent?.trim());
  })
  .map((el) => el.outerHTML.slice(0, 120)));

test('look and feel: the theme follows the system and can be chosen; every control has a label and a visible focus', async () => {
  await openStudio(page, 'experiments');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const dark = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).not.toBe(dark);
  await page.getByTestId('theme-select').selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  // the choice is kept across a reload, and beats the system's light
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.getByTestId('pick-run').first().check();
  await page.getByTestId('pick-run').nth(1).check();
  await page.getByTestId('compare-button').click();
  await expect(page.getByTestId('comparison')).toBeVisible(WORK);
  await shots('experiments-dark', async (p) => expect(p.getByTestId('compare-chart').first()).toBeVisible());
  await page.getByTestId('theme-select').selectOption('system');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');

  for (const view of ['datasets', 'train', 'experiments']) {
    await page.getByTestId(`nav-${view}`).click();
    await expect(page.locator('main h1')).toBeVisible();
    expect(await unlabelled(page.locator('body')), `${view}: controls without a label`).toEqual([]);
  }
  // Tab through the Experiments view: every stop draws an outline
  await page.locator('main h1').click();
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const s = getComputedStyle(el);
      return { what: el.outerHTML.slice(0, 80), outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 };
    });
    if (focus) expect(focus.outline, `no visible focus on ${focus.what}`).toBe(true);
  }
  expect(pageErrors).toEqual([]);
});

/**
 * The runs table with 1,000 runs: the page's listRuns answered with 1,000 copies of a real summary
 * (names, tags, datasets and accuracies varied), so the page holds and renders them all. What this
 * holds is what it shows (every run counted, a filter and a sort that answer correctly); the times
 * are printed for the README, not asserted (a loaded machine must not fail it).
 */
test('1,000 runs: the table holds every one; filtering and sorting answer from the page', async ({ browser }) => {
  const template = (await api('listRuns', {}))[0]!;
  const many = Array.from({ length: 1000 }, (_, i) => ({
    ...template, id: 100_000 + i, name: `synthetic ${i}${i % 7 === 0 ? ' lucky' : ''}`, tags: i % 10 === 0 ? ['tenth'] : [],
    bestValAccuracy: (i * 37) % 1000 / 1000, totalParams: 1000 + i, status: 'completed' as const, parentRunId: null,
  }));
  const big = await browser.newPage({ viewport: SIZES[0] });
  await big.route('**/api/listRuns', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ ok: true, value: many }) }));
  await big.route('**/api/listSweeps', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ ok: true, value: [] }) }));
  const t0 = Date.now();
  await openStudio(big, 'experiments');
  await expect(big.getByTestId('run-count')).toHaveText('1000 of 1000', WORK);
  // the table draws a page of rows and offers the rest
  await expect(big.getByTestId('experiment-run')).toHaveCount(200);
  const shownMs = Date.now() - t0;
  await expect(big.getByTestId('more-runs')).toHaveText('Show 200 more (800 not shown)');
  /** One change made in the page, timed there: from the event to the frame after the table changed. */
  const timed = (testid: string, value: string) => big.evaluate(async ([id, v]) => {
    const el = document.querySelector(`[data-testid="${id}"]`) as HTMLInputElement | HTMLSelectElement;
    const t = performance.now();
    el.value = v!;
    el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r)));
    return performance.now() - t;
  }, [testid, value]);
  const filterMs = await timed('run-search', 'lucky');
  await expect(big.getByTestId('run-count')).toHaveText('143 of 1000');
  await expect(big.getByTestId('experiment-run')).toHaveCount(143);
  const clearMs = await timed('run-search', '');
  await expect(big.getByTestId('experiment-run')).toHaveCount(200);
  const sortMs = await timed('run-sort', 'bestAccuracy');
  // (i·37 mod 1000) is 999 for i = 27
  await expect(big.getByTestId('experiment-run').first()).toHaveAttribute('data-run-id', String(100_027));
  await big.getByTestId('more-runs').click();
  await expect(big.getByTestId('experiment-run')).toHaveCount(400);
  console.log(`1,000 runs in the page: listed and first drawn ${shownMs} ms; filter ${filterMs.toFixed(0)} ms, filter cleared ${clearMs.toFixed(0)} ms, sort ${sortMs.toFixed(0)} ms to the next frame (load ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
  await big.close();
});

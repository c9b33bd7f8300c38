import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { dropOnWindow } from './desktop/flow.js';
import { api, openStudio, shot, studioUrl, WORK } from './studio.js';

const SAMPLE = fileURLToPath(new URL('../resources/datasets/fashion-mnist-sample', import.meta.url));

test('before any run, the run views say what to do next', async ({ page }) => {
  await openStudio(page, 'train');
  await expect(page.getByTestId('empty-state')).toContainText('Design a model in the Builder');
  await page.getByTestId('nav-evaluate').click();
  await expect(page.getByTestId('empty-state')).toContainText('Train a run for at least one epoch');
  await page.getByTestId('nav-experiments').click();
  await expect(page.getByTestId('empty-state')).toContainText('Start runs from the Builder');
});

test('the token leaves the address bar but survives a reload; a page without it says where to get one', async ({ page, browser }) => {
  await openStudio(page, 'datasets');
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  expect(page.url()).not.toContain('token=');
  await page.reload();
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);

  const stranger = await browser.newPage();
  await stranger.goto(new URL(studioUrl()).origin + '/');
  await expect(stranger.getByRole('alert').first()).toContainText('Open the address that npm run web printed');
  await stranger.close();
});

test('the bundled sample is listed; its detail shows 10 classes, counts, the lint report and thumbnails', async ({ page }) => {
  await openStudio(page, 'datasets');
  const row = page.getByTestId('dataset-row').filter({ hasText: 'Fashion-MNIST sample' });
  await expect(row).toBeVisible();
  await expect(row).toContainText('28×28×1');
  await expect(row).toContainText('5,000');
  await row.click();
  const detail = page.getByTestId('dataset-detail');
  await expect(detail.getByTestId('class-count')).toHaveText('10');
  await expect(page.getByTestId('class-counts-chart')).toHaveAttribute('data-points', '20');
  await expect(page.getByTestId('lint-report')).toContainText('Exact duplicates');
  const thumbs = page.getByTestId('thumbnails');
  await expect(thumbs).toContainText('Ankle boot');
  await expect(thumbs.getByTestId('thumbnail').first()).toBeVisible();
  expect(await thumbs.getByTestId('thumbnail').count()).toBeGreaterThanOrEqual(30);
  // Images really decoded: a 28×28 PNG scaled ×2 has a natural width of 56.
  expect(await thumbs.getByTestId('thumbnail').first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(56);
  await shot(page, 'datasets');
});

test('importing a path that does not exist shows the service\'s one-line error and stores nothing', async ({ page }) => {
  await openStudio(page, 'datasets');
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  await page.getByTestId('import-path').fill('/no/such/folder/fashion');
  await page.getByTestId('import-button').click();
  const error = page.getByTestId('import-error');
  await expect(error).toBeVisible();
  await expect(error).toContainText('/no/such/folder/fashion');
  expect((await error.innerText()).split('\n')).toHaveLength(1);
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  await shot(page, 'import-error');
});

test('a folder and a file dropped on the page at once are uploaded and imported one after the other, each with its result', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnn-studio-e2e-drop-'));
  const notAnArchive = join(dir, 'my-images.zip');
  writeFileSync(notAnArchive, 'not really an archive');
  try {
    await openStudio(page, 'datasets');
    await expect(page.getByTestId('dataset-row')).toHaveCount(1);
    // Chromium's own drag events carrying the real folder and file (its directory entries are walked and packed as a tar)
    await dropOnWindow(page, [SAMPLE, notAnArchive]);
    const items = page.getByTestId('import-item');
    await expect(items).toHaveCount(2);
    const folder = items.filter({ hasText: 'fashion-mnist-sample' });
    const file = items.filter({ hasText: 'my-images.zip' });
    await expect(folder).toHaveAttribute('data-source', 'upload');
    await expect(file).toHaveAttribute('data-source', 'upload');
    // the sample's bytes, uploaded as a tar, are the bundled sample's: the library knows them already
    await expect(folder).toHaveAttribute('data-status', 'done', WORK);
    await expect(folder.getByTestId('import-item-message')).toContainText('already in the library as “Fashion-MNIST sample”');
    // the zip is uploaded after the folder and refused by the importer, in its words
    await expect(file).toHaveAttribute('data-status', 'failed', WORK);
    await expect(file.getByTestId('import-item-message')).toContainText('my-images.zip');
    await shot(page, 'dropped-uploads');
    await expect(page.getByTestId('dataset-row')).toHaveCount(1);
    expect((await api('listDatasets', {})).length).toBe(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A folder import that cannot finish until the test lets it: each class folder holds a few real
 * PNGs and one named `9-waits.png`, and the e2e studio's import worker (support/held-import-worker.ts)
 * waits on that image's gate, a named pipe outside the dataset, before reading it. Cancel is
 * pressed while it waits — however fast or loaded the machine — and once the service has answered
 * the cancel, `release` opens each gate for writing and closes it, so the terminated import worker
 * can go.
 */
function blockedImportFolder(png: Buffer): { dir: string; release: () => void } {
  const gates = process.env.CNN_STUDIO_E2E_GATES;
  if (!gates) throw new Error('CNN_STUDIO_E2E_GATES is not set: run the specs through playwright.config.ts');
  const dir = mkdtempSync(join(tmpdir(), 'cnn-studio-e2e-blocked-'));
  const pipes: string[] = [];
  for (const cls of ['a', 'b']) {
    mkdirSync(join(dir, cls));
    for (let i = 0; i < 3; i++) writeFileSync(join(dir, cls, `${i}.png`), png);
    writeFileSync(join(dir, cls, '9-waits.png'), png);
    const pipe = join(gates, `${cls}-9-waits.png`);
    rmSync(pipe, { force: true });
    execFileSync('mkfifo', [pipe]);
    pipes.push(pipe);
  }
  const release = () => {
    for (const pipe of pipes) {
      try {
        closeSync(openSync(pipe, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch (e) {
        // ENXIO: nobody is reading this pipe (yet, or any more).
        if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw e;
      }
    }
  };
  return { dir, release };
}

test('an import in progress shows its progress, and Cancel stops it without a new dataset', async ({ page }) => {
  test.skip(process.platform === 'win32', 'needs named pipes (mkfifo) to hold the import open');
  const png = await sharp(Buffer.alloc(64, 120), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
  const { dir, release } = blockedImportFolder(png);
  try {
    await openStudio(page, 'datasets');
    const before = await page.getByTestId('dataset-row').count();
    await page.getByTestId('import-path').fill(dir);
    await page.getByTestId('import-button').click();
    // Real progress from importProgress events: the files found, then those decoded before the pipe.
    await expect(page.getByTestId('import-progress')).toContainText(/ of 8/, WORK);
    await page.getByTestId('import-progress').screenshot({ path: 'e2e/screenshots/import-progress.png' });
    const cancelled = page.waitForResponse((r) => r.url().endsWith('/api/cancelImport'));
    await page.getByTestId('import-cancel').click();
    expect(await (await cancelled).json()).toEqual({ ok: true, value: { cancelled: true } });
    release();
    await expect(page.getByTestId('import-error')).toHaveText('import cancelled', WORK);
    await expect(page.getByTestId('import-progress')).toHaveCount(0);
    await expect(page.getByTestId('dataset-row')).toHaveCount(before);
    expect((await api('listDatasets', {})).length).toBe(before);
  } finally {
    release();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dataset and its classes are renamed in place; the list and the thumbnails say the new names', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnn-studio-e2e-names-'));
  let datasetId: number | null = null;
  try {
    for (const [cls, shade] of [['0', 30], ['1', 220]] as const) {
      mkdirSync(join(dir, cls));
      for (let i = 0; i < 3; i++) {
        writeFileSync(join(dir, cls, `${i}.png`), await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: shade, g: shade + i, b: shade } } }).png().toBuffer());
      }
    }
    datasetId = (await api('importDataset', { path: dir, name: 'digits to name' })).dataset.id;
    await page.setViewportSize({ width: 1024, height: 700 });
    await openStudio(page, 'datasets');
    await page.getByTestId('dataset-row').filter({ hasText: 'digits to name' }).click();
    const detail = page.getByTestId('dataset-detail');
    await expect(detail.getByRole('heading', { name: 'digits to name' })).toBeVisible();
    await detail.getByTestId('edit-names').click();
    const form = detail.getByTestId('names-form');
    await form.getByTestId('dataset-name-input').fill('dark and light');
    await form.getByLabel('name of class 0').fill('dark');
    await form.getByLabel('name of class 1').fill('light');
    await shot(page, 'dataset-names-1024');
    await form.getByTestId('save-names').click();
    await expect(form).toBeHidden();
    await expect(detail.getByRole('heading', { name: 'dark and light' })).toBeVisible();
    await expect(page.getByTestId('dataset-row').filter({ hasText: 'dark and light' })).toBeVisible();
    await expect(page.getByTestId('thumbnails')).toContainText('light');
    expect((await api('getDataset', { id: datasetId })).classNames).toEqual(['dark', 'light']);

    // a refusal is shown in the service's words and nothing changes
    await detail.getByTestId('edit-names').click();
    await form.getByTestId('dataset-name-input').fill('Fashion-MNIST sample');
    await form.getByTestId('save-names').click();
    await expect(form.getByTestId('names-error')).toContainText('is named "Fashion-MNIST sample"');
    expect((await api('getDataset', { id: datasetId })).name).toBe('dark and light');
  } finally {
    if (datasetId !== null) await api('deleteDataset', { id: datasetId });
    rmSync(dir, { recursive: true, force: true });
  }
});

import { expect, test } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { openStudio, shot, studioUrl } from './studio.js';

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

test('a dropped file fills its name and says that a browser cannot know where it is', async ({ page }) => {
  await openStudio(page, 'datasets');
  const dataTransfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['not really an archive'], 'my-images.zip'));
    return dt;
  });
  await page.getByRole('region', { name: 'Import a dataset' }).dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('import-path')).toHaveValue('my-images.zip');
  await expect(page.getByTestId('drop-note')).toContainText('only tells the name “my-images.zip”');
});

/**
 * A folder import slow enough to cancel by hand: 2 classes × 6,000 copies of one small PNG. sharp
 * decodes each file (~1 ms here), so the import runs for several seconds, while an IDX import of the
 * full Fashion-MNIST finishes in about one and raced the click.
 */
async function slowImportFolder(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cnn-studio-e2e-slow-'));
  const png = await sharp(Buffer.alloc(64, 120), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
  for (const cls of ['a', 'b']) {
    mkdirSync(join(dir, cls));
    for (let i = 0; i < 6000; i++) writeFileSync(join(dir, cls, `${i}.png`), png);
  }
  return dir;
}

test('a long import shows progress and Cancel stops it without a new dataset', async ({ page }) => {
  const folder = await slowImportFolder();
  await openStudio(page, 'datasets');
  const before = await page.getByTestId('dataset-row').count();
  await page.getByTestId('import-path').fill(folder);
  await page.getByTestId('import-button').click();
  // Real progress from importProgress events: a phase with a count.
  await expect(page.getByTestId('import-progress')).toContainText(/ of [\d,]+/);
  await page.getByTestId('import-progress').screenshot({ path: 'e2e/screenshots/import-progress.png' });
  await page.getByTestId('import-cancel').click();
  await expect(page.getByTestId('import-error')).toHaveText('import cancelled');
  await expect(page.getByTestId('import-progress')).toHaveCount(0);
  await expect(page.getByTestId('dataset-row')).toHaveCount(before);
  rmSync(folder, { recursive: true, force: true });
});

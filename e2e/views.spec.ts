/**
 * Every view at two laptop sizes, with the runs the training flow left behind: nothing wider than
 * the window, no console errors, and a screenshot of each (e2e/screenshots/view-<size>-<view>.png)
 * to look at. Runs after training-flow.spec.ts (files run in name order, one worker).
 */
import { expect, test, type Page } from '@playwright/test';
import { openStudio, shot, WORK } from './studio.js';

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 700 },
];

/** What each view shows once its data is there. */
const READY: Record<string, (page: Page) => Promise<void>> = {
  datasets: async (page) => {
    await expect(page.getByTestId('thumbnails').getByTestId('thumbnail').first()).toBeVisible();
  },
  builder: async (page) => {
    await expect(page.getByTestId('layer-card').first().getByTestId('layer-shape')).toBeVisible();
  },
  train: async (page) => {
    await expect(page.getByTestId('run-dashboard')).toBeVisible();
    await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBeGreaterThan(0);
  },
  evaluate: async (page) => {
    // The baseline run has stored evaluations: the newest is shown with its gallery.
    const select = page.getByTestId('evaluate-run-select');
    const baseline = select.locator('option', { hasText: /^#\d+ e2e baseline \(completed\)$/ });
    await select.selectOption(await baseline.getAttribute('value'));
    await expect(page.getByTestId('misclassified-item').first().locator('img')).toBeVisible(WORK);
  },
  experiments: async (page) => {
    await expect(page.getByTestId('pick-run').first()).toBeVisible();
    await page.getByTestId('pick-run').nth(0).check();
    await page.getByTestId('pick-run').nth(1).check();
    await page.getByTestId('compare-button').click();
    await expect(page.getByTestId('comparison')).toBeVisible(WORK);
  },
};

for (const size of SIZES) {
  test(`every view at ${size.width}×${size.height}: fits the window, no console errors`, async ({ browser }) => {
    const page = await browser.newPage({ viewport: size });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await openStudio(page, 'datasets');
    for (const [view, ready] of Object.entries(READY)) {
      await page.getByTestId(`nav-${view}`).click();
      await ready(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${view} is ${overflow}px wider than the window`).toBeLessThanOrEqual(0);
      await shot(page, `view-${size.width}x${size.height}-${view}`);
    }
    expect(errors).toEqual([]);
    await page.close();
  });
}

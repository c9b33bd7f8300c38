/**
 * The desktop flow's steps on a window's page, shared by the stand-in spec (desktop-flow.spec.ts)
 * and the real-Electron spec (desktop-electron.spec.ts): what a user does, and what they see.
 */
import { expect, type Locator, type Page } from '@playwright/test';

/** Waits on real work (importing, training) on a busy 2-core machine: they end when the state is there. */
export const WORK = { timeout: 240_000 };

/**
 * Drops files or folders on the window the way the OS does: Chromium's own drag events (DevTools'
 * Input.dispatchDragEvent) carrying real files, so the page gets File objects and, for folders,
 * directory entries — no synthetic DataTransfer.
 */
export async function dropOnWindow(page: Page, paths: string[]): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const box = page.viewportSize() ?? { width: 1280, height: 800 };
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
    await cdp.send('Input.dispatchDragEvent', { type, x: Math.round(box.width * 0.6), y: Math.round(box.height * 0.5), data });
  }
  await cdp.detach();
}

export async function goTo(page: Page, view: 'datasets' | 'builder' | 'train' | 'evaluate' | 'experiments'): Promise<void> {
  await page.getByTestId(`nav-${view}`).click();
}

/** The import queue shows the item done, and the library lists the dataset. */
export async function expectImported(page: Page, label: string, datasetName: string): Promise<void> {
  const item = page.getByTestId('import-item').filter({ hasText: label });
  await expect(item).toHaveAttribute('data-status', 'done', WORK);
  await expect(page.getByTestId('dataset-list')).toContainText(datasetName);
}

/** Builder: the small MLP template on `dataset`, the given settings, Start; lands on the run's dashboard. */
export async function startRun(page: Page, o: { dataset: string; name: string; epochs: number; trainLimit?: number; batchSize?: number }): Promise<void> {
  await goTo(page, 'builder');
  // an option reads 'name (28×28×1, 10 classes)': pick it by the name it starts with
  const datasets = page.getByTestId('builder-dataset');
  await datasets.selectOption((await datasets.locator('option', { hasText: o.dataset }).first().getAttribute('value'))!);
  await page.getByTestId('builder-template').selectOption('mlp');
  await page.getByTestId('hp-name').fill(o.name);
  await page.getByTestId('hp-epochs').fill(String(o.epochs));
  if (o.batchSize) await page.getByTestId('hp-batchSize').fill(String(o.batchSize));
  // the form keeps the last run's values: a run without a limit clears it (blank = all images)
  await page.getByTestId('hp-trainLimit').fill(o.trainLimit ? String(o.trainLimit) : '');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('run-dashboard')).toContainText(o.name);
}

export async function expectRunStatus(page: Page, status: string): Promise<void> {
  await expect(page.getByTestId('run-dashboard').getByTestId('run-status')).toHaveText(status, WORK);
}

/** The run list's item of a run, by its name. */
export function runItem(page: Page, name: string) {
  return page.getByTestId('run-item').filter({ hasText: name });
}

/** What a spec gives the flow: the app's window, and the OS's part of each step. */
export interface DesktopDriver {
  page: Page;
  /** The OS's part of a drop: the stand-in is told the dropped paths (its webUtils answers them); Electron knows. */
  beforeDrop(paths: string[]): Promise<void>;
  /** The next save dialog answers this path. */
  answerSave(path: string): Promise<void>;
  /** Presses the window's close button and resolves once the app's process has exited. */
  closeWindowAndWait(): Promise<void>;
  /** Starts the app again on the same library and resolves with its new window's page. */
  relaunch(): Promise<Page>;
  /** Page errors the app's window had (CSP refusals, exceptions): the flow must have none. */
  pageErrors(): Promise<string[]>;
}

/**
 * The desktop flow of issue 8: drop the sample's folder on the window (it is imported from its path,
 * with the import's progress), train one epoch, export ONNX through the save dialog to a chosen path,
 * quit while a second run trains, relaunch, find that run paused and resume it. `shot` saves a
 * screenshot of each step, with the step's result (`focus`) in view.
 */
export async function desktopFlow(d: DesktopDriver, o: { sample: string; exportPath: string; shot: (page: Page, name: string, focus?: Locator) => Promise<void> }): Promise<void> {
  let page = d.page;
  // The library imports the bundled sample at its first start: take it out, so the drop imports anew.
  await expect(page.getByTestId('dataset-list')).toContainText('Fashion-MNIST sample', WORK);
  await page.evaluate(async () => {
    const api = (window as unknown as { cnnStudio: { deleteDataset(r: { id: number }): Promise<unknown> } }).cnnStudio;
    await api.deleteDataset({ id: 1 });
  });
  await page.reload();
  await expect(page.getByTestId('empty-state')).toContainText('No datasets yet');

  await d.beforeDrop([o.sample]);
  await dropOnWindow(page, [o.sample]);
  const item = page.getByTestId('import-item').filter({ hasText: 'fashion-mnist-sample' });
  await expect(item).toHaveAttribute('data-source', 'path');
  await expectImported(page, 'fashion-mnist-sample', 'fashion-mnist-sample');
  // the finished item keeps its bar, full at the importer's own count (its progress events reached the page: without them it is 1 of 1)
  const bar = item.getByTestId('import-item-progress').getByRole('progressbar');
  const max = Number(await bar.getAttribute('aria-valuemax'));
  expect(max).toBeGreaterThan(1);
  await expect(bar).toHaveAttribute('aria-valuenow', String(max));
  await expect(page.getByTestId('import-notice')).toContainText('5,000 training and 1,000 test images');
  await o.shot(page, '01-dropped-and-imported');

  await startRun(page, { dataset: 'fashion-mnist-sample', name: 'one epoch', epochs: 1, trainLimit: 1000 });
  await expectRunStatus(page, 'completed');
  await o.shot(page, '02-trained-one-epoch', page.getByTestId('run-dashboard').getByTestId('run-status'));

  await d.answerSave(o.exportPath);
  await page.getByTestId('export-onnx').click();
  await expect(page.getByTestId('export-saved')).toContainText(o.exportPath, WORK);
  await expect(page.getByTestId('reveal-export')).toBeVisible();
  await o.shot(page, '03-exported-onnx', page.getByTestId('export-saved'));

  // 100,000 epochs of all 4,500 training images: still training whenever the close button is pressed,
  // and after the resume until Stop, however fast the machine
  await startRun(page, { dataset: 'fashion-mnist-sample', name: 'long run', epochs: 100_000, batchSize: 32 });
  await expectRunStatus(page, 'running');
  await expect(page.getByTestId('batch-progress')).not.toHaveAttribute('aria-valuenow', '0', WORK);
  await o.shot(page, '04-second-run-training', page.getByTestId('run-dashboard').getByTestId('run-status'));
  await d.closeWindowAndWait();

  page = await d.relaunch();
  await goTo(page, 'train');
  await expect(runItem(page, 'long run')).toContainText('paused', WORK);
  await runItem(page, 'long run').click();
  await expectRunStatus(page, 'paused');
  await expect(page.getByTestId('resume-run')).toBeVisible();
  await o.shot(page, '05-relaunched-paused');
  await page.getByTestId('resume-run').click();
  await expectRunStatus(page, 'running');
  await o.shot(page, '06-resumed');
  await page.getByTestId('stop-run').click();
  await expectRunStatus(page, 'stopped');
  expect(await d.pageErrors()).toEqual([]);
}

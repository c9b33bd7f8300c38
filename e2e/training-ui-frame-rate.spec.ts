/**
 * The page keeps drawing while a run trains and an inspection computes: requestAnimationFrame frames
 * per second in the page, measured in windows that alternate between pages under the same load —
 *  - "live": the Look inside view of a run while another run trains (the run picker follows its
 *    status and epochs) and the page itself asks for one feature-map inspection after another
 *    (always one in flight) — asserted;
 *  - "static": the Datasets view, nothing live on it, while this test (not the page) keeps the same
 *    inspections in flight and the same run trains;
 *  - the training run's Train view (live charts, progress, figures, training health; progress reported
 *    every batch) with the page's inspections — asserted at ≥ 40 % of static: it drew 3–10 fps while it
 *    changed the screen at every event, ~40–48 since live updates share one 250 ms clock (lib/cadence.ts);
 * and once idle, before the run starts.
 *
 * Why it cannot be flaky: on a shared 2-core CI machine the page's frame rate is set by how much CPU
 * the browser gets (the run's thread, the inspection workers and other suites take theirs), so a fixed
 * "≥ 50 fps" would fail for reasons that are not the page's. What the page can be held to is its own
 * work: live ≥ half of static, measured in alternating windows on the same machine under the same load.
 * Every figure is printed — idle too, and whether live reached 50 fps. A window is 120 counted frames
 * (not a fixed time), a live window lasts until an inspection has answered inside it, and the run cannot
 * finish during the test (100,000 epochs; stopped afterwards).
 */
import { expect, test, type Page } from '@playwright/test';
import type { ModelSpec } from '../src-main/contract/index.js';
import { api, openStudio, shot, studioUrl, WORK } from './studio.js';

const SPEC: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [{ type: 'conv2d', filters: 8, kernelSize: 3, activation: 'relu' }, { type: 'maxpool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }],
};
const FRAMES = 120;
const ROUNDS = 3;

type Inspect = { token: string; runId: number; datasetId: number };
type Window = { fps: number; inspections: number; failed: number };

/** In the page: FRAMES frames counted with requestAnimationFrame; with `inspect`, the page keeps a featureMaps request in flight meanwhile. */
const measure = (page: Page, inspect: Inspect | null) => page.evaluate(async ({ frames, inspect }): Promise<Window> => {
  let stop = false;
  let inspections = 0;
  let failed = 0;
  const fps = () => new Promise<number>((resolve) => {
    const times: number[] = [];
    const tick = (t: number) => {
      times.push(t);
      if (times.length < frames || (inspect && inspections + failed === 0)) requestAnimationFrame(tick);
      else resolve(((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!));
    };
    requestAnimationFrame(tick);
  });
  const loop = inspect && (async () => {
    for (let i = 0; !stop; i++) {
      const response = await fetch('/api/featureMaps', {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${inspect.token}` },
        body: JSON.stringify({ runId: inspect.runId, image: { type: 'dataset', datasetId: inspect.datasetId, split: 'test', index: i % 100 } }),
      });
      const r = (await response.json()) as { ok: boolean };
      if (stop) break; // answered after the window: not counted
      if (r.ok) inspections++;
      else failed++;
    }
  })();
  const f = await fps();
  stop = true;
  await loop;
  return { fps: f, inspections, failed };
}, { frames: FRAMES, inspect });

/** The same inspections, asked by this test while the page is measured doing nothing live. */
async function measureStatic(page: Page, inspect: Inspect): Promise<Window> {
  let stop = false;
  let inspections = 0;
  const loop = (async () => {
    for (let i = 0; !stop; i++) {
      await api('featureMaps', { runId: inspect.runId, image: { type: 'dataset', datasetId: inspect.datasetId, split: 'test', index: i % 100 } });
      inspections++;
    }
  })();
  const w = await measure(page, null);
  stop = true;
  await loop;
  return { ...w, inspections };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const figures = (ws: Window[]) => `${ws.map((w) => w.fps.toFixed(1)).join(' / ')} fps (median ${median(ws.map((w) => w.fps)).toFixed(1)})`;

test('requestAnimationFrame keeps its pace while a run trains and an inspection computes', async ({ page }) => {
  const sample = (await api('listDatasets', {})).find((d) => d.name === 'Fashion-MNIST sample')!;
  const inspected = await api('startRun', { datasetId: sample.id, name: 'e2e frame rate (inspected)', spec: SPEC, hyperparameters: { epochs: 1, trainLimit: 300, batchSize: 50, seed: 3 } });
  await expect.poll(async () => (await api('getRun', { id: inspected.id, batches: false })).status, WORK).toBe('completed');
  const inspect: Inspect = { token: new URL(studioUrl()).searchParams.get('token')!, runId: inspected.id, datasetId: sample.id };

  await openStudio(page, 'datasets');
  await expect(page.getByTestId('thumbnails')).toBeVisible(WORK);
  const idle = [await measure(page, null)];

  // a run that cannot finish during the test
  const training = await api('startRun', { datasetId: sample.id, name: 'e2e frame rate (training)', spec: SPEC, hyperparameters: { epochs: 100_000, trainLimit: 600, batchSize: 50, seed: 4, threads: 1, progressEvery: 1 } });
  try {
    await expect.poll(async () => (await api('getRun', { id: training.id, batches: true })).batches.length, WORK).toBeGreaterThan(0);
    const stepsBefore = (await api('getRun', { id: training.id, batches: true })).batches.at(-1)!.step;
    const live: Window[] = [];
    const still: Window[] = [];
    const trainView: Window[] = [];
    let chartPoints = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await page.getByTestId('nav-inspect').click();
      await page.getByTestId('inspect-run-select').selectOption(String(inspected.id));
      await expect(page.getByTestId('filters')).toHaveAttribute('data-snapshot', /\d+/, WORK);
      live.push(await measure(page, inspect));
      await page.getByTestId('nav-train').click();
      await page.locator(`[data-testid="run-item"][data-run-id="${training.id}"]`).click();
      await expect(page.getByTestId('batch-progress')).toBeVisible();
      trainView.push(await measure(page, inspect));
      chartPoints = Number(await page.getByTestId('loss-chart').getAttribute('data-points'));
      await page.getByTestId('nav-datasets').click();
      await expect(page.getByTestId('thumbnails')).toBeVisible();
      still.push(await measureStatic(page, inspect));
    }
    // to look at: the Train view of the run reported every batch, its long lines decimated
    await page.getByTestId('nav-train').click();
    await page.locator(`[data-testid="run-item"][data-run-id="${training.id}"]`).click();
    await shot(page, 'train-live-every-batch');
    const after = await api('getRun', { id: training.id, batches: true });
    const liveFps = median(live.map((w) => w.fps));
    const staticFps = median(still.map((w) => w.fps));
    console.log(`frame rate: idle ${figures(idle)}; run training + inspections: static page ${figures(still)}, ` +
      `Look inside (live) ${figures(live)} with ${live.map((w) => w.inspections).join(' / ')} inspections answered in its windows; ` +
      `the training run's Train view ${figures(trainView)} (its loss chart holding ${chartPoints} points, reported every batch); ` +
      `${after.batches.at(-1)!.step - stepsBefore} training steps meanwhile; the live page ${liveFps >= 50 ? 'reached' : 'did not reach'} 50 fps ` +
      `on this machine (${liveFps.toFixed(1)})`);

    // the windows were busy: the run trained through them and the page's inspections answered in each live one
    expect(after.status).toBe('running');
    expect(after.batches.at(-1)!.step).toBeGreaterThan(stepsBefore);
    for (const w of live) {
      expect(w.failed).toBe(0);
      expect(w.inspections).toBeGreaterThan(0);
    }
    expect(liveFps).toBeGreaterThanOrEqual(0.5 * staticFps);
    // the Train view of a run ending ~30 epochs a second: its batches, epochs and health measurements
    // change the screen at most every LIVE_UPDATE_MS. Unlike the still page it does redraw, four times a
    // second by design, and each redraw costs the software compositor more when the machine is busier:
    // held to 40 % of the still page (it drew 40–48 fps against 60 here; at every event it drew 3–10,
    // with the cadence at 0 ms 18.7 — both fail this)
    expect(median(trainView.map((w) => w.fps))).toBeGreaterThanOrEqual(0.4 * staticFps);
  } finally {
    await api('stopRun', { id: training.id });
    await expect.poll(async () => (await api('getRun', { id: training.id, batches: false })).status, WORK).toBe('stopped');
  }
});

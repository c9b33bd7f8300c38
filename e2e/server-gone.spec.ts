/**
 * The browser mode when its server goes away: the page says so in a banner (not only the sidebar's
 * dot) and offers to reconnect; `npm run web` started again on the same data folder comes back on
 * the same address and token (web/stable-address.ts), so the open page carries on — Reconnect now
 * brings the stream back and the page reads the library again. Its own server (src-main/web/main.ts,
 * as `npm run web` runs it) on a temp folder, not the specs' shared one.
 */
import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shot, WORK } from './studio.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Starts `npm run web`'s server on `db` and resolves with it and the address it prints. */
function startWeb(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src-main/web/main.ts'), '--db', db], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /serving on (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
      if (m) resolve({ child, url: m[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm run web exited (code ${code}) before serving:\n${output}`)));
  });
}

/** SIGTERM (what Ctrl-C does: runs pause, the server closes) and wait for the exit. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

test('the server goes away: a banner says so and offers Reconnect; started again on the same folder, the page carries on', async ({ page }) => {
  test.setTimeout(10 * 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'cnn-studio-e2e-gone-'));
  const db = join(dir, 'studio.sqlite');
  let server = await startWeb(db);
  try {
    await page.goto(server.url);
    await expect(page.getByTestId('dataset-row').filter({ hasText: 'Fashion-MNIST sample' })).toBeVisible(WORK);
    await expect(page.getByTestId('server-gone')).toHaveCount(0);

    await stop(server.child);
    const banner = page.getByTestId('server-gone');
    await expect(banner).toContainText('The studio\'s server is not answering', WORK);
    await expect(banner.getByTestId('reconnect')).toBeVisible();
    await shot(page, 'server-gone');

    const again = await startWeb(db);
    expect(again.url).toBe(server.url); // the same port and token: the page's address still works
    server = again;
    // the page's own retry may win the race to the new server at any moment, removing the banner under
    // a click (a plain click then waits for the button forever): until the banner is gone, press
    // Reconnect if it is there, a bounded try each time round
    await expect(async () => {
      if (await banner.count()) await banner.getByTestId('reconnect').click({ timeout: 1000 }).catch(() => {});
      await expect(banner).toHaveCount(0, { timeout: 1000 });
    }).toPass(WORK);
    await expect(page.getByTestId('dataset-row').filter({ hasText: 'Fashion-MNIST sample' })).toBeVisible();
    // calls work again too, not only the event stream: a dataset's detail is read from the new server
    await page.getByTestId('dataset-row').first().click();
    await expect(page.getByTestId('dataset-detail').getByTestId('class-count')).toHaveText('10', WORK);
  } finally {
    await stop(server.child);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Shared helpers of the specs: the studio's address from global-setup, the API behind it, and screenshots to look at. */
import type { Page } from '@playwright/test';
import type { CommandName, RequestOf, ResponseOf, Result } from '../src-main/contract/index.js';

/**
 * For waits on real work (training, evaluating, a worker starting): the time a 2-core machine busy
 * with other work needs. They end as soon as the state is there; only a failure waits this long.
 */
export const WORK = { timeout: 240_000 };

export function studioUrl(): string {
  const url = process.env.CNN_STUDIO_URL;
  if (!url) throw new Error('CNN_STUDIO_URL is not set: run the specs through playwright.config.ts (its globalSetup starts the studio)');
  return url;
}

/** Opens the studio on a view; the token in the address is what the page keeps for its API calls. */
export async function openStudio(page: Page, view = 'datasets'): Promise<void> {
  const url = new URL(studioUrl());
  url.hash = `#/${view}`;
  await page.goto(url.toString());
}

/**
 * Asks the studio's service directly, as the page does (POST /api/<command> with the token): what a
 * spec compares the screen with (the stored batches of a paused run, the thumbnail of an index).
 */
export async function api<C extends CommandName>(command: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const url = new URL(studioUrl());
  const token = url.searchParams.get('token')!;
  const response = await fetch(new URL(`/api/${command}`, url.origin), {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(request),
  });
  const result = (await response.json()) as Result<ResponseOf<C>>;
  if (!result.ok) throw new Error(`${command}: ${result.error.message}`);
  return result.value;
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `e2e/screenshots/${name}.png`, fullPage: true });
}

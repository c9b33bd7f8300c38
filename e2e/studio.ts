/** Shared helpers of the specs: the studio's address from global-setup, and screenshots to look at. */
import type { Page } from '@playwright/test';

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

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `e2e/screenshots/${name}.png`, fullPage: true });
}

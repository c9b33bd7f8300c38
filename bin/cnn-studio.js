#!/usr/bin/env node
// The npm bin. Runs the built CLI when the app has been built, else the TypeScript source through tsx.
import { existsSync } from 'node:fs';

const built = new URL('../out/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src-main/cli/main.ts', import.meta.url).href);
}

#!/usr/bin/env node
// The npm bin. An installed package runs the built CLI (out/main/cli.js, made by `npm run build`,
// which `npm pack` runs first); a checkout runs the TypeScript source through tsx, so it is never stale.
import { existsSync } from 'node:fs';

const source = new URL('../src-main/cli/main.ts', import.meta.url);
const built = new URL('../out/main/cli.js', import.meta.url);

async function tsxIsInstalled() {
  try {
    await import('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && (await tsxIsInstalled())) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write('cnn-studio: the CLI is not built; run `npm run build` (or `npm ci` for the development tools)\n');
  process.exit(1);
}

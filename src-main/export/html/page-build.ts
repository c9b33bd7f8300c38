/**
 * How the exported page's script is bundled, in one place for both ways it is made: from the
 * sources at first use in a checkout (./page-script.ts) and at build time for the built app
 * (electron.vite.config.ts). esbuild is the one tsx and vite already bring.
 */
import type { BuildOptions } from 'esbuild';

/** The virtual module the built app imports the bundled script from (./page-script-bundle.ts). */
export const SHARE_PAGE_MODULE = 'virtual:cnn-studio/share-page-script';

export const SHARE_PAGE_BUILD = {
  bundle: true,
  format: 'iife',
  platform: 'browser',
  // what any browser of the last few years runs
  target: ['es2020'],
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  write: false,
  logLevel: 'silent',
} as const satisfies BuildOptions;

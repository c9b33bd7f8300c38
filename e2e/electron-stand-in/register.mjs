/**
 * `node --import ./e2e/electron-stand-in/register.mjs out/main/index.js` runs the built main bundle
 * on the stand-in; loadPreload() runs the built (CommonJS) preload the same way.
 */
import Module, { createRequire, register } from 'node:module';

register('./hooks.mjs', import.meta.url);

/** Runs a built CommonJS preload with `require('electron')` answered by the stand-in. */
export async function loadPreload(path) {
  const electron = await import('./electron.mjs');
  const load = Module._load;
  Module._load = function (request, ...rest) {
    return request === 'electron' ? electron.default : load.call(this, request, ...rest);
  };
  try {
    createRequire(import.meta.url)(path);
  } finally {
    Module._load = load;
  }
  return electron.standIn.world;
}

/**
 * `node --import ./e2e/electron-stand-in/register.mjs out/main/index.js` runs the built main bundle
 * on the stand-in; loadPreload() runs the built (CommonJS) preload the same way.
 */
import Module, { createRequire, register } from 'node:module';

register('./hooks.mjs', import.meta.url);

const require = createRequire(import.meta.url);

/**
 * Runs a built CommonJS preload with `require('electron')` answered by the stand-in (the module's
 * own instance unless given one), afresh each time as Electron does at each page load; returns the
 * world it exposed its APIs in.
 */
export async function loadPreload(path, instance) {
  const { electron, standIn } = instance ?? { electron: (await import('./electron.mjs')).default, standIn: (await import('./electron.mjs')).standIn };
  const load = Module._load;
  Module._load = function (request, ...rest) {
    return request === 'electron' ? electron : load.call(this, request, ...rest);
  };
  standIn.world = {};
  try {
    delete require.cache[require.resolve(path)];
    require(path);
  } finally {
    Module._load = load;
  }
  return standIn.world;
}

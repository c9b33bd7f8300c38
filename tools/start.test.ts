/** How `npm start` finds Electron's binary (tools/start.ts) without the electron package's download side effect. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../src-main/service/testing.js';
import { findElectronBinary } from './start.js';

const dir = tempDir('cnn-studio-start-');
afterAll(() => dir.remove());

function checkout(name: string, o: { pathTxt?: string; binary?: boolean } = {}) {
  const root = join(dir.path, name);
  const pkg = join(root, 'node_modules', 'electron');
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{"name":"electron","version":"45.5.0"}');
  if (o.pathTxt) writeFileSync(join(pkg, 'path.txt'), o.pathTxt);
  if (o.binary) writeFileSync(join(pkg, 'dist', o.pathTxt ?? 'electron'), '');
  return root;
}

describe('findElectronBinary', () => {
  it('finds the downloaded binary through path.txt, as node_modules/electron/index.js does', () => {
    const root = checkout('downloaded', { pathTxt: 'electron', binary: true });
    expect(findElectronBinary(root, {})).toEqual({ path: join(root, 'node_modules/electron/dist/electron') });
  });
  it('says the binary is not downloaded when path.txt or the file is missing (what npm start then fetches)', () => {
    expect(findElectronBinary(checkout('fresh'), {})).toEqual({ missing: 'its binary is not downloaded yet' });
    expect(findElectronBinary(checkout('half', { pathTxt: 'electron' }), {})).toEqual({ missing: 'its binary is not downloaded yet' });
  });
  it('honours ELECTRON_OVERRIDE_DIST_PATH, and never downloads past it', () => {
    const root = checkout('override');
    const dist = join(dir.path, 'my-electron');
    mkdirSync(dist);
    expect(findElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: dist })).toEqual({ missing: `ELECTRON_OVERRIDE_DIST_PATH has no Electron binary (${join(dist, 'electron')})` });
    writeFileSync(join(dist, 'electron'), '');
    expect(findElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: dist })).toEqual({ path: join(dist, 'electron') });
  });
  it('without the electron package at all', () => {
    expect(findElectronBinary(join(dir.path, 'nothing'), {})).toEqual({ missing: 'the electron package is not installed (run npm ci)' });
  });
});

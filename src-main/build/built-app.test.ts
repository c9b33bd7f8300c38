/**
 * The built app, not the sources: `electron-vite build` makes out/main (the shell, the CLI, the web
 * server and their worker chunks), out/preload and out/renderer; then, in plain Node,
 *  - the built shell runs on the Electron stand-in and, through the built preload's API, imports
 *    the bundled sample, trains one epoch on 2 threads (gradient replicas are bundled chunks too)
 *    and evaluates it;
 *  - the built CLI answers --help without the service;
 *  - `npm pack` ships what an installed CLI needs, and an install with --omit=dev runs it;
 *  - electron-builder packs it (the `dir` target, with a stand-in Electron distribution: the real
 *    one cannot be downloaded here) with the native modules unpacked and the sample beside it;
 *  - `npm start` without an Electron binary says so in one line and serves the browser mode.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../service/testing.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, 'out');
const SAMPLE = join(ROOT, 'resources', 'datasets', 'fashion-mnist-sample');
const dir = tempDir('cnn-studio-built-');

beforeAll(() => {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`electron-vite build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
});
afterAll(() => dir.remove());

type Step = { step: string; value: Record<string, unknown> & unknown[] };

describe('electron-vite build', () => {
  it('writes the main, preload and renderer bundles; the preload is CommonJS (sandboxed preloads cannot be ES modules)', () => {
    for (const file of ['main/index.js', 'main/cli.js', 'main/web.js', 'preload/index.cjs', 'renderer/index.html']) expect(existsSync(join(OUT, file)), file).toBe(true);
    // the worker entries are chunks of their own, started with new Worker(new URL(chunk, import.meta.url))
    expect(readdirSync(join(OUT, 'main')).filter((f) => /^(worker|replica|worker-entry)-.*\.js$/.test(f)).length).toBeGreaterThanOrEqual(2);
  });

  it('the built shell on the Electron stand-in: through the built preload, import the sample, train 1 epoch on 2 threads, evaluate, quit', () => {
    const home = join(dir.path, 'stand-in-home');
    const r = spawnSync(process.execPath, [join(ROOT, 'e2e/electron-stand-in/drive-built-app.mjs'), OUT, SAMPLE], {
      cwd: dir.path, encoding: 'utf8', env: { ...process.env, CNN_STUDIO_STAND_IN_HOME: home }, timeout: 900_000,
    });
    expect(r.status, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
    const steps = new Map(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Step).map((s) => [s.step, s.value]));
    expect(steps.get('window')).toMatchObject({ webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false } });
    expect(steps.get('api')).toMatchObject({ exposesIpcRenderer: false });
    expect((steps.get('api')!.functions as string[])).toContain('startRun');
    expect(steps.get('datasets')).toEqual([{ id: 1, name: 'Fashion-MNIST sample', trainCount: 5000 }]);
    expect(steps.get('import')).toEqual({ id: 1, alreadyImported: true });
    expect(steps.get('run')).toMatchObject({ status: 'completed', threads: 2, epochs: 1, error: null });
    expect(String(steps.get('run')!.kernelsUsed)).toMatch(/^wasm-(relaxed-)?simd$/);
    expect(steps.get('evaluation')).toMatchObject({ split: 'test', count: 1000 });
    expect(steps.get('evaluation')!.accuracy as number).toBeGreaterThan(0.3);
    expect(steps.get('quit')).toEqual({ quitCount: 1 });
    // the library is where the desktop app keeps it: app.getPath('userData') = <appData>/cnn-studio, the CLI's default folder
    expect(existsSync(join(home, 'appData', 'cnn-studio', 'studio.sqlite'))).toBe(true);
  });

  it('the built CLI answers --help without opening a library', () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(OUT, 'main/cli.js'), '--help', '--db', join(dir.path, 'never.sqlite')], { encoding: 'utf8' });
    console.log(`built cnn-studio --help: ${(performance.now() - t0).toFixed(0)} ms`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: cnn-studio/);
    expect(r.stdout).toContain('--batch-size N');
    expect(existsSync(join(dir.path, 'never.sqlite'))).toBe(false);
  });
});

describe('npm pack', () => {
  it('ships the built app and the sample, not the sources or tests; installed with --omit=dev, the CLI runs', () => {
    // --ignore-scripts: beforeAll built already (prepack would build again)
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir.path], { cwd: ROOT, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    for (const f of ['bin/cnn-studio.js', 'out/main/cli.js', 'out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html', 'resources/datasets/fashion-mnist-sample/train-images-idx3-ubyte.gz', 'package.json']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('src-') || f.endsWith('.test.ts') || f.startsWith('e2e/'))).toEqual([]);

    const app = join(dir.path, 'installed');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{"name":"try-cnn-studio","private":true}');
    // Without install scripts, better-sqlite3's native addon is not compiled (that takes a minute here;
    // on a user's machine prebuild-install fetches it): copy this checkout's build, the same Node ABI.
    execFileSync('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(dir.path, packed[0]!.filename)], { cwd: app, stdio: 'pipe' });
    const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    mkdirSync(join(app, 'node_modules/better-sqlite3/build/Release'), { recursive: true });
    copyFileSync(join(ROOT, addon), join(app, addon));
    expect(existsSync(join(app, 'node_modules/tsx')), 'tsx is a dev dependency and must not be installed').toBe(false);

    const bin = join(app, 'node_modules/.bin/cnn-studio');
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: cnn-studio/);
    const db = join(dir.path, 'installed.sqlite');
    const train = spawnSync(bin, ['--db', db, '--json', 'train', '--dataset', '1', '--model', 'mlp', '--epochs', '1', '--limit', '300', '--threads', '2'], { encoding: 'utf8', timeout: 900_000 });
    expect(train.status, train.stderr).toBe(0);
    const result = JSON.parse(train.stdout.trim().split('\n').at(-1)!) as { ok: boolean; value: { id: number; status: string; hyperparameters: { threads: number } } };
    expect([result.ok, result.value.status, result.value.hyperparameters.threads]).toEqual([true, 'completed', 2]);
    // the shared page's script was bundled at build time: the installed CLI has no esbuild and no sources
    expect(existsSync(join(app, 'node_modules/esbuild')), 'esbuild is a dev dependency').toBe(false);
    const page = join(dir.path, 'installed.html');
    const exported = spawnSync(bin, ['--db', db, 'export', String(result.value.id), '--format', 'html', '--out', page], { encoding: 'utf8' });
    expect(exported.status, exported.stderr).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('<script type="application/json" id="cnn-studio-model">');
    expect(html).toContain('inputs must be finite'); // the engine's model, inlined
  });
});

describe('electron-builder', () => {
  it('packs the built app: out/ and the production dependencies in app.asar, native code unpacked, the sample in resources; no sources, maps, tests or dev tools', () => {
    // a stand-in Electron distribution: electron-builder copies it and renames the binary
    const fakeElectron = join(dir.path, 'fake-electron');
    mkdirSync(join(fakeElectron, 'resources'), { recursive: true });
    writeFileSync(join(fakeElectron, 'electron'), '#!/bin/sh\n', { mode: 0o755 });
    const output = join(dir.path, 'dist');
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-builder/cli.js'), '--linux', 'dir', `-c.electronDist=${fakeElectron}`, `-c.directories.output=${output}`], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);

    const resources = join(output, 'linux-unpacked', 'resources');
    expect(existsSync(join(output, 'linux-unpacked', 'cnn-studio')), 'the binary, named for the package').toBe(true);
    const asar = createRequire(import.meta.url)('@electron/asar') as { listPackage(path: string): string[]; extractFile(path: string, file: string): Buffer };
    const files = asar.listPackage(join(resources, 'app.asar')).map((f) => f.replace(/\\/g, '/'));
    for (const f of ['/package.json', '/out/main/index.js', '/out/main/cli.js', '/out/preload/index.cjs', '/out/renderer/index.html', '/node_modules/ws/package.json', '/node_modules/better-sqlite3/package.json', '/node_modules/sharp/package.json']) {
      expect(files, f).toContain(f);
    }
    const outside = files.filter((f) => /^\/(src-|e2e|tools|resources)/.test(f) || f.endsWith('.map') || f.endsWith('.test.ts') || /^\/node_modules\/(electron|vitest|playwright|@playwright|svelte|typescript|tsx|onnxruntime-node)\//.test(f));
    expect(outside).toEqual([]);
    const packaged = JSON.parse(asar.extractFile(join(resources, 'app.asar'), 'package.json').toString()) as { main: string; name: string };
    expect([packaged.name, packaged.main]).toEqual(['cnn-studio', 'out/main/index.js']);

    // native code cannot load from inside the archive
    const unpacked = join(resources, 'app.asar.unpacked', 'node_modules');
    expect(existsSync(join(unpacked, 'better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
    const sharpBinaries = readdirSync(join(unpacked, '@img'), { recursive: true }).map(String).filter((f) => f.endsWith('.node') || /\.so(\.|$)|\.dylib$|\.dll$/.test(f));
    expect(sharpBinaries.length).toBeGreaterThanOrEqual(2);
    // the sample, where index.ts looks for it in a packaged app (process.resourcesPath/datasets/…)
    expect(readdirSync(join(resources, 'datasets/fashion-mnist-sample')).sort()).toEqual(readdirSync(SAMPLE).sort());
  });

  it('the config: appId and productName, icons from resources/icons, nsis, dmg x64 + arm64, AppImage and deb, npmRebuild off', () => {
    const yml = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8');
    for (const line of ['appId: org.cnnstudio.desktop', 'productName: CNN Studio', 'npmRebuild: false', 'target: nsis', 'icon: resources/icons/icon.ico', 'icon: resources/icons/icon.icns', 'icon: resources/icons/png', 'arch: [x64, arm64]', 'target: [AppImage, deb]']) {
      expect(yml, line).toContain(line);
    }
    for (const icon of ['icon.ico', 'icon.icns', 'png/512x512.png']) expect(existsSync(join(ROOT, 'resources/icons', icon)), icon).toBe(true);
  });
});

describe('npm start', () => {
  it('without an Electron binary: one line says so, then the browser mode serves the UI at the URL it prints', async () => {
    const home = join(dir.path, 'start-home');
    const noElectron = join(dir.path, 'no-electron');
    mkdirSync(noElectron, { recursive: true });
    // ELECTRON_OVERRIDE_DIST_PATH at an empty folder: no binary, and no download attempt; the library in a temp home
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/start.ts'), '--no-build', '--port', '0'], {
      cwd: ROOT, env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: noElectron, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), APPDATA: join(home, 'AppData') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (c: Buffer) => {
          output += c.toString();
          const m = /serving on (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
          if (m) resolve(m[1]!);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) => reject(new Error(`npm start exited (${code}) before serving:\n${output}`)));
      });
      const lines = output.split('\n');
      expect(lines[0]).toBe(`Electron is not available here (ELECTRON_OVERRIDE_DIST_PATH has no Electron binary (${join(noElectron, 'electron')})); starting the browser mode instead.`);
      expect(lines[1]).toMatch(/^CNN Studio is serving on http:\/\/127\.0\.0\.1:/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>CNN Studio</title>');
      expect(existsSync(join(home, '.config', 'cnn-studio', 'studio.sqlite'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

/**
 * `npm start [-- args]`: build the app (electron-vite build) and launch it in Electron. On a machine
 * with the internet Electron fetches its binary on first use (node_modules/electron/install.js, the
 * same download `electron .` would start). Where the binary cannot be had, one line says so and the
 * browser mode starts instead (the built web server, out/main/web.js), printing its URL.
 *   --no-build   launch what is in out/ (the tests do, after their own build)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export type ElectronBinary = { path: string } | { missing: string };

/**
 * Where the Electron binary is, found the way node_modules/electron/index.js finds it (path.txt in
 * the package, or ELECTRON_OVERRIDE_DIST_PATH), without that module's side effect of downloading.
 */
export function findElectronBinary(root: string, env: NodeJS.ProcessEnv): ElectronBinary {
  const pkg = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkg, 'package.json'))) return { missing: 'the electron package is not installed (run npm ci)' };
  const pathFile = join(pkg, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const path = join(override, relative || 'electron');
    return existsSync(path) ? { path } : { missing: `ELECTRON_OVERRIDE_DIST_PATH has no Electron binary (${path})` };
  }
  const path = relative ? join(pkg, 'dist', relative) : '';
  return path && existsSync(path) ? { path } : { missing: 'its binary is not downloaded yet' };
}

/** Runs Electron's own installer (a download from GitHub, cached); the binary, or why not. */
export function downloadElectron(root: string, env: NodeJS.ProcessEnv): ElectronBinary {
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'electron', 'install.js')], { env, encoding: 'utf8', timeout: 15 * 60_000 });
  const found = findElectronBinary(root, env);
  if ('path' in found) return found;
  // the installer's error is a stack trace; its first line says what went wrong (e.g. "fetch failed")
  const reason = `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('at ')) ?? (r.error?.message ?? `exit ${r.status}`);
  return { missing: `its binary could not be downloaded: ${reason.replace(/^(Type)?Error: /, '')}` };
}

function main(): void {
  const args = process.argv.slice(2);
  const build = !args.includes('--no-build');
  const passOn = args.filter((a) => a !== '--no-build');
  if (build) {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  let electron = findElectronBinary(ROOT, process.env);
  if ('missing' in electron && !process.env.ELECTRON_OVERRIDE_DIST_PATH) electron = downloadElectron(ROOT, process.env);

  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // set, it would run the app as plain Node
  const child = 'path' in electron
    ? spawn(electron.path, [ROOT, ...passOn], { cwd: ROOT, stdio: 'inherit', env })
    : (process.stdout.write(`Electron is not available here (${electron.missing}); starting the browser mode instead.\n`),
      spawn(process.execPath, [join(ROOT, 'out/main/web.js'), ...passOn], { cwd: ROOT, stdio: 'inherit', env }));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

/**
 * Builds the app (electron-vite: out/main, out/preload, out/renderer) if any of it is missing or
 * older than its sources — the desktop specs run the built shell and preload, the others the built
 * renderer — then starts the real web server (e2e/support/studio-server.ts: `npm run web`'s server
 * with imports that a spec can hold) on a temp database and reads the address it prints.
 * The address (with its token) reaches the specs through process.env.CNN_STUDIO_URL.
 * Returns the teardown: stop the server (SIGTERM pauses running runs) and delete the temp folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newestMtime(join(path, name))), s.mtimeMs);
}

function buildAppIfStale(): void {
  const built = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((f) => join(root, f));
  const sources = Math.max(...['src-main', 'src-engine', 'src-renderer', 'electron.vite.config.ts', 'vite.renderer.config.ts'].map((f) => newestMtime(join(root, f))));
  if (built.every((f) => existsSync(f) && statSync(f).mtimeMs >= sources)) return;
  process.stdout.write('e2e: building the app (electron-vite build → out/)…\n');
  const r = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`e2e: the build failed (exit ${r.status})`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  buildAppIfStale();
  const dir = mkdtempSync(join(tmpdir(), 'cnn-studio-e2e-'));
  const gates = join(dir, 'import-gates');
  mkdirSync(gates);
  process.env.CNN_STUDIO_E2E_GATES = gates; // for the specs (./support/held-import-worker.ts)
  const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'e2e/support/studio-server.ts'), '--db', join(dir, 'studio.sqlite')], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CNN_STUDIO_E2E_GATES: gates },
  });
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`e2e: the web server printed no address within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /serving on (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`e2e: the web server exited (code ${code}) before serving:\n${output}`));
    });
  });
  process.env.CNN_STUDIO_URL = url;
  process.stdout.write(`e2e: studio at ${url.replace(/token=.*/, 'token=…')} (database in ${dir})\n`);

  return async () => {
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

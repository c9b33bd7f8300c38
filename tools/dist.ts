/**
 * `npm run dist:linux|mac|win [-- --arch x64|arm64]`: the installers (electron-builder.yml), on a
 * machine with the internet (electron-builder downloads Electron, and the native modules' Electron
 * builds). The steps, in order:
 *   1. electron-vite build                             (out/main, out/preload, out/renderer)
 *   2. per architecture: the native rebuild for Electron (electron-builder install-app-deps:
 *      better-sqlite3 against Electron's ABI, in node_modules), then electron-builder for the target
 *   3. always, even after a failure: better-sqlite3 rebuilt for this Node again, so the tests and the
 *      CLI keep working — the reason electron-builder's own rebuild is off (npmRebuild: false).
 * sharp needs no rebuild: its binaries use Node-API, the same for Node and Electron.
 * electron-builder and @electron/rebuild need Node ≥ 22.12 (their engines), so this refuses older.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PLATFORMS = { linux: 'linux', mac: 'darwin', win: 'win32' } as const;
export type DistPlatform = keyof typeof PLATFORMS;
export const MIN_NODE = [22, 12] as const;

export interface Step {
  what: string;
  command: string[];
}

/** Architectures built for a target: both Mac ones (the dmg config names them), else the one asked or this machine's. */
export function archesFor(platform: DistPlatform, asked: string | undefined, hostArch: string = process.arch): string[] {
  if (asked) return [asked];
  return platform === 'mac' ? ['x64', 'arm64'] : [hostArch === 'arm64' ? 'arm64' : 'x64'];
}

/** The packaging steps, and the one that must run whatever happens (restoring Node's ABI). */
export function distSteps(platform: DistPlatform, arches: readonly string[]): { steps: Step[]; always: Step } {
  const node = process.execPath;
  const builder = join(ROOT, 'node_modules/electron-builder/cli.js');
  const steps: Step[] = [{ what: 'build the app', command: [node, join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'] }];
  for (const arch of arches) {
    steps.push(
      { what: `rebuild native modules for Electron (${PLATFORMS[platform]} ${arch})`, command: [node, builder, 'install-app-deps', `--platform=${PLATFORMS[platform]}`, `--arch=${arch}`] },
      { what: `package for ${platform} ${arch}`, command: [node, builder, `--${platform}`, `--${arch}`, '--publish', 'never'] },
    );
  }
  return { steps, always: { what: 'rebuild better-sqlite3 for this Node again (tests, CLI)', command: ['npm', 'rebuild', 'better-sqlite3'] } };
}

export function nodeIsRecentEnough(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

function main(): void {
  const [platform, ...rest] = process.argv.slice(2);
  if (!platform || !Object.hasOwn(PLATFORMS, platform)) {
    process.stderr.write(`usage: tsx tools/dist.ts linux|mac|win [--arch x64|arm64]\n`);
    process.exit(2);
  }
  if (!nodeIsRecentEnough()) {
    process.stderr.write(`dist: packaging needs Node ≥ ${MIN_NODE.join('.')} (electron-builder and @electron/rebuild require it); this is Node ${process.versions.node}\n`);
    process.exit(2);
  }
  const archIndex = rest.indexOf('--arch');
  const { steps, always } = distSteps(platform as DistPlatform, archesFor(platform as DistPlatform, archIndex >= 0 ? rest[archIndex + 1] : undefined));
  const run = (s: Step) => {
    process.stdout.write(`dist: ${s.what}\n`);
    return spawnSync(s.command[0]!, s.command.slice(1), { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' }).status === 0;
  };
  let ok = true;
  for (const s of steps) if (!(ok = run(s))) break;
  const restored = run(always);
  if (!ok || !restored) process.exit(1);
  process.stdout.write(`dist: done; the installers are in ${join(ROOT, 'dist')}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

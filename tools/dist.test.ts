/** The packaging plan of `npm run dist:*` (tools/dist.ts): native rebuild first, Node's ABI restored always. */
import { describe, expect, it } from 'vitest';
import { archesFor, distSteps, nodeIsRecentEnough } from './dist.js';

describe('npm run dist', () => {
  it('builds, then per architecture rebuilds the native modules for Electron before packaging; restoring Node\'s build is the step that always runs', () => {
    const { steps, always } = distSteps('mac', archesFor('mac', undefined));
    expect(steps.map((s) => s.what)).toEqual([
      'build the app',
      'rebuild native modules for Electron (darwin x64)', 'package for mac x64',
      'rebuild native modules for Electron (darwin arm64)', 'package for mac arm64',
    ]);
    expect(steps[1]!.command.slice(-3)).toEqual(['install-app-deps', '--platform=darwin', '--arch=x64']);
    expect(steps[2]!.command.slice(-4)).toEqual(['--mac', '--x64', '--publish', 'never']);
    expect(always.command).toEqual(['npm', 'rebuild', 'better-sqlite3']);
  });

  it('Windows and Linux: this machine\'s architecture unless --arch says otherwise', () => {
    expect(archesFor('win', undefined, 'x64')).toEqual(['x64']);
    expect(archesFor('linux', undefined, 'arm64')).toEqual(['arm64']);
    expect(archesFor('linux', 'arm64', 'x64')).toEqual(['arm64']);
    const win = distSteps('win', ['x64']).steps;
    expect(win[1]!.command).toContain('--platform=win32');
    expect(win[2]!.command).toContain('--win');
  });

  it('needs Node 22.12 or later (electron-builder\'s and @electron/rebuild\'s engines)', () => {
    expect(['20.20.2', '22.11.0', '22.12.0', '24.1.0'].map((v) => nodeIsRecentEnough(v))).toEqual([false, false, true, true]);
  });
});

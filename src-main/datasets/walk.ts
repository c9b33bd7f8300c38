/**
 * Listing the folders of one import. Only regular files and folders are returned; everything else is
 * recorded as skipped, with the reason in words, and never aborts the import:
 *   - names that are not valid UTF-8 (read as bytes, so the rest of the folder still lists);
 *   - links that are broken, loop, or lead outside the imported folder;
 *   - named pipes, sockets and devices (which could block a read forever or never end);
 *   - subfolders that cannot be read.
 * Links that stay inside the imported folder are followed, file or folder: datasets are often
 * assembled with links (a class folder of links into an "all images" folder), and such a link can only
 * reach files the user already chose to import. A folder link back to a folder that contains it is a
 * loop and is skipped. Only the imported folder itself failing to list fails the import.
 */
import { isUtf8 } from 'node:buffer';
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { formatCount, limitError, type ImportLimits } from './limits.js';
import { fileErrorReason, specialFileReason } from './reasons.js';
import { DatasetImportError } from './types.js';

export interface Listing {
  files: string[];
  dirs: string[];
}

export interface SkippedEntry {
  /** the path as listed (under the imported folder), with U+FFFD for bytes of a name that are not UTF-8 */
  path: string;
  reason: string;
}

/** Hidden files and OS litter are not part of a dataset (and are not reported either). */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini' || name === '__MACOSX';
}

const byName = (a: string, b: string): number => basename(a).localeCompare(basename(b), 'en', { numeric: true });

function contains(folder: string, path: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

export class FolderWalker {
  /** the real path of the imported folder: links must resolve inside it */
  private readonly boundary: string;
  private readonly skips = new Map<string, string>();
  private fileCount = 0;

  constructor(readonly root: string, private readonly limits: ImportLimits) {
    try {
      this.boundary = realpathSync(root);
    } catch (error) {
      throw new DatasetImportError('unreadable', `${root}: ${fileErrorReason(error)}`, root);
    }
  }

  /** Everything skipped so far, in path order. */
  get skipped(): SkippedEntry[] {
    return [...this.skips].map(([path, reason]) => ({ path, reason })).sort((a, b) => a.path.localeCompare(b.path));
  }

  private skip(path: string, reason: string): void {
    this.skips.set(path, reason);
  }

  /** The regular files and folders directly in `dir`, in natural name order. */
  list(dir: string): Listing {
    const files: string[] = [];
    const dirs: string[] = [];
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      if (dir === this.root) throw new DatasetImportError('unreadable', `${dir}: folder ${fileErrorReason(error)}`, dir);
      this.skip(dir, `folder ${fileErrorReason(error)}`);
      return { files, dirs };
    }
    for (const entry of entries) {
      if (!isUtf8(entry.name)) {
        this.skip(join(dir, entry.name.toString('utf8')), 'name is not valid UTF-8 (shown with � for the bytes that are not); rename it to import it');
        continue;
      }
      const name = entry.name.toString('utf8');
      if (isIgnoredName(name)) continue;
      const path = join(dir, name);
      if (entry.isDirectory()) dirs.push(path);
      else if (entry.isFile()) files.push(path);
      else if (entry.isSymbolicLink()) {
        const kind = this.followLink(dir, path);
        if (kind === 'dir') dirs.push(path);
        else if (kind === 'file') files.push(path);
      } else this.skip(path, specialFileReason(entry));
    }
    return { files: files.sort(byName), dirs: dirs.sort(byName) };
  }

  /** What a link in `dir` leads to, if it may be followed; otherwise it is recorded as skipped. */
  private followLink(dir: string, path: string): 'file' | 'dir' | null {
    let target: string;
    try {
      target = realpathSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.skip(path, code === 'ENOENT' ? 'a broken link (its target does not exist)' : `a link that ${fileErrorReason(error)}`);
      return null;
    }
    if (!contains(this.boundary, target)) {
      this.skip(path, `a link to ${target}, outside the imported folder`);
      return null;
    }
    let stat;
    try {
      stat = statSync(target);
    } catch (error) {
      this.skip(path, `a link whose target ${fileErrorReason(error)}`);
      return null;
    }
    if (stat.isDirectory()) {
      if (contains(target, realpathSync(dir))) {
        this.skip(path, 'a link to a folder that contains it (a loop)');
        return null;
      }
      return 'dir';
    }
    if (stat.isFile()) return 'file';
    this.skip(path, `a link to ${specialFileReason(stat)}`);
    return null;
  }

  /** Every regular file below `dir`, depth first in name order; refused past limits.maxFiles. */
  walkFiles(dir: string): string[] {
    const out: string[] = [];
    let start: string;
    try {
      start = realpathSync(dir);
    } catch (error) {
      this.skip(dir, `folder ${fileErrorReason(error)}`);
      return out;
    }
    // `chain` holds the real paths from `dir` down to this folder: two links that lead to each other
    // are a loop the per-link check cannot see.
    const stack: { dir: string; chain: ReadonlySet<string> }[] = [{ dir, chain: new Set([start]) }];
    while (stack.length > 0) {
      const { dir: current, chain } = stack.pop()!;
      const { files, dirs } = this.list(current);
      this.fileCount += files.length;
      if (this.fileCount > this.limits.maxFiles) {
        throw limitError('maxFiles', `${this.root}: more than ${formatCount(this.limits.maxFiles)} files in the folder (the limit per folder import)`, this.fileCount, this.limits.maxFiles, this.root);
      }
      out.push(...files);
      for (const sub of [...dirs].reverse()) {
        let real: string;
        try {
          real = realpathSync(sub);
        } catch (error) {
          this.skip(sub, `folder ${fileErrorReason(error)}`);
          continue;
        }
        if (chain.has(real)) {
          this.skip(sub, 'a link to a folder that contains it (a loop)');
          continue;
        }
        stack.push({ dir: sub, chain: new Set([...chain, real]) });
      }
    }
    return out;
  }
}

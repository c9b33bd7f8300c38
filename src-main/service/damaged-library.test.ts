/**
 * A library that fails its integrity check is refused at start — by the service, the CLI and the
 * web server — with what to do, and nothing is written to it. Doing what the message says works:
 * `cnn-studio check --repair` mends a damaged index; damage in a table itself is answered with
 * "restore your latest backup", and a backup made with `cnn-studio backup` restores the library.
 * Either way the paused run then resumes to its end.
 */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.js';
import { ServiceError } from './errors.js';
import { SAMPLE_DATASET_NAME } from './service.js';
import { exited, openService, pausedRun, spawnTs, tempDir } from './testing.js';

let dir: ReturnType<typeof tempDir>;
let db: string;
let runId: number;
let pristine: Buffer;
const backup = () => join(dir.path, 'backup.sqlite');

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['--db', db, ...argv], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTTY: false });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = tempDir();
  db = join(dir.path, 'studio.sqlite');
  const service = await openService(dir.path);
  runId = await pausedRun(service, service.datasets.find(SAMPLE_DATASET_NAME).id);
  await service.close(); // the last connection checkpoints: the file holds everything
  const b = await cli('backup', backup());
  expect(b.code, b.stderr).toBe(0);
  expect(b.stdout).toMatch(/^backed up .* to .*backup\.sqlite \([\d.]+ MB\)/);
  pristine = readFileSync(db);
});
afterAll(() => dir.remove());

/** Flips one byte of the word "paused" inside the b-tree page of `name` (a table or an index). */
function damage(name: string): void {
  const raw = new Database(db, { readonly: true });
  const pageSize = raw.pragma('page_size', { simple: true }) as number;
  const root = raw.prepare('SELECT rootpage FROM sqlite_master WHERE name = ?').pluck().get(name) as number;
  raw.close();
  const bytes = readFileSync(db);
  const page = bytes.subarray((root - 1) * pageSize, root * pageSize);
  const at = page.indexOf('paused');
  expect(at, `"paused" in page ${root} of ${name}`).toBeGreaterThan(0);
  page[at + 4] = 'X'.charCodeAt(0); // "pausXd": still a well-formed record, no longer the truth
  writeFileSync(db, bytes);
}

/** The service, the CLI and the web server all refuse the library, with what to do, and write nothing to it. */
async function refusedEverywhere(): Promise<void> {
  const before = readFileSync(db);
  let refusal: unknown = null;
  try {
    await openService(dir.path);
  } catch (e) {
    refusal = e;
  }
  expect(refusal).toBeInstanceOf(ServiceError);
  const message = (refusal as ServiceError).message;
  expect((refusal as ServiceError).code).toBe('storage');
  expect(message).toMatch(new RegExp(`^the library ${db} is damaged: its integrity check found \\d+ problems?, the first: ".+"\\. Nothing was written to it\\. ` +
    `Close CNN Studio everywhere it is open, keep a copy of studio\\.sqlite \\(with its -wal file, if any\\), then run "cnn-studio check --db ${db}": `));
  const train = await cli('runs');
  expect([train.code, train.stderr]).toEqual([1, `cnn-studio runs: ${message}\n`]);
  const web = spawnTs('src-main/web/main.ts', ['--db', db, '--port', '0']);
  web.stdin.end();
  let stderr = '';
  web.stderr.on('data', (d) => (stderr += d));
  expect((await exited(web)).code).toBe(1);
  expect(stderr).toContain(`npm run web: ${message}`);
  expect(readFileSync(db).equals(before)).toBe(true);
}

async function resumesToTheEnd(): Promise<void> {
  const service = await openService(dir.path);
  try {
    expect(service.runs.summary(runId).status).toBe('paused');
    service.runs.resume(runId);
    expect((await service.runs.waitFor(runId)).status).toBe('completed');
    expect(service.runs.detail(runId, false).epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(service.store.integrityCheck()).toBe('ok');
  } finally {
    await service.close();
  }
}

describe('a damaged library', () => {
  it('a damaged index: refused everywhere, unchanged; "check" says so, "check --repair" mends it, and the run resumes', async () => {
    damage('runs_by_status');
    await refusedEverywhere();
    const check = await cli('check');
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/is damaged; the integrity check says:\n {2}.*runs_by_status/);
    expect(check.stdout).toMatch(/then run "cnn-studio check --repair": if only indexes are damaged, that fixes it/);
    const repair = await cli('check', '--repair');
    expect([repair.code, repair.stdout]).toEqual([0, `${db}: repaired — its indexes were damaged and are rebuilt from the tables (nothing was lost); the integrity check now passes\n`]);
    expect((await cli('check')).stdout).toBe(`${db}: the integrity check found nothing wrong\n`);
    await resumesToTheEnd();
  });

  it('a damaged table: refused everywhere; "check --repair" cannot mend it and says to restore the backup, which brings the run back', async () => {
    writeFileSync(db, pristine);
    rmSync(`${db}-wal`, { force: true });
    rmSync(`${db}-shm`, { force: true });
    damage('runs');
    await refusedEverywhere();
    const repair = await cli('check', '--repair');
    expect(repair.code).toBe(1);
    expect(repair.stdout).toMatch(/CHECK constraint failed in runs/);
    expect(repair.stdout).toMatch(/Rebuilding the indexes did not fix it: the tables themselves are damaged\. Restore your latest backup \(made with "cnn-studio backup FILE"\): with CNN Studio closed everywhere, copy it over the library file and delete the -wal and -shm files beside it\./);
    // what the message says
    copyFileSync(backup(), db);
    for (const f of [`${db}-wal`, `${db}-shm`]) if (existsSync(f)) rmSync(f);
    await resumesToTheEnd();
  });

  it('backup refuses to overwrite a file', async () => {
    const again = await cli('backup', backup());
    expect([again.code, again.stderr]).toEqual([1, `cnn-studio backup: ${backup()} exists already; choose a new file name\n`]);
  });
});

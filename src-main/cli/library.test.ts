/**
 * The library from the CLI as people tidy it: real Fashion-MNIST named on import, class names given
 * with --classes, a dataset shown whole (every skipped file and why), renamed; a damaged or deleted
 * cache refused before a run row exists, with the re-import command to type; runs renamed, tagged,
 * filtered, sorted, exported as CSV; deleting what others depend on says so and asks for --yes.
 */
import { existsSync, mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../db/store.js';
import { tempDir } from '../service/testing.js';
import { runCli } from './index.js';

let dir: ReturnType<typeof tempDir>;
let db: string;

beforeAll(() => {
  dir = tempDir();
  db = join(dir.path, 'studio.sqlite');
});
afterAll(() => dir.remove());

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['--db', db, ...argv], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTTY: false });
  return { code, stdout, stderr };
}

/** Rows in a table, read beside the CLI (which closes its service after each command). */
function count(table: string): number {
  const store = new Store(db);
  try {
    return store.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
  } finally {
    store.close();
  }
}

function cacheFileOf(id: number): string {
  const store = new Store(db);
  try {
    return store.getDataset(id)!.cacheFile;
  } finally {
    store.close();
  }
}

function idx(magic: number, dims: number[], data: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

describe('datasets: names, the whole report, a cache that is gone', () => {
  let pets: string;

  it('Debian\'s full Fashion-MNIST (no classes.txt) imports as "Fashion-MNIST" with its class names', async () => {
    const r = await cli('import', '/usr/share/datasets/fashion-mnist');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('imported dataset 2 "Fashion-MNIST": idx, 28×28×1, 10 classes, 60000 train + 10000 test images');
    expect(r.stdout).toContain(`recognised as Fashion-MNIST: classes ${FASHION.join(', ')}`);
    const shown = await cli('dataset', 'Fashion-MNIST');
    expect(shown.stdout).toMatch(/^\s*9\s+Ankle boot\s+6000\s+1000\s*$/m);
  });

  it('--classes names an IDX set\'s classes; a count that does not fit is refused, nothing stored', async () => {
    pets = join(dir.path, 'pets');
    mkdirSync(pets);
    const pixels = Array.from({ length: 6 * 16 }, (_, i) => (i * 37) % 256);
    writeFileSync(join(pets, 'train-images-idx3-ubyte'), idx(0x0803, [6, 4, 4], pixels));
    writeFileSync(join(pets, 'train-labels-idx1-ubyte'), idx(0x0801, [6], [0, 1, 0, 1, 0, 1]));
    const before = count('datasets');
    const bad = await cli('import', pets, '--classes', 'cat');
    expect([bad.code, bad.stderr.trim().split('\n').at(-1)]).toEqual([2, `cnn-studio import: ${pets}: 1 class names given but the data has labels from 0 to 1`]);
    expect(count('datasets')).toBe(before);
    const r = await cli('import', pets, '--classes', 'cat,dog', '--name', 'pets');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('imported dataset 3 "pets": idx, 4×4×1, 2 classes, 6 train + 0 test images');
    expect((await cli('dataset', '3')).stdout).toMatch(/^\s*1\s+dog\s+3\s+0\s*$/m);
  });

  it('`dataset <id>` lists every skipped file with its reason in words; the import points there', async () => {
    const folder = join(dir.path, 'shapes');
    for (const c of ['circle', 'square']) {
      mkdirSync(join(folder, c), { recursive: true });
      for (let i = 0; i < 2; i++) {
        const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 40 * i, g: c === 'circle' ? 200 : 10, b: 9 } } }).png().toBuffer();
        writeFileSync(join(folder, c, `${i}.png`), png);
      }
    }
    const good = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer();
    writeFileSync(join(folder, 'square', 'cut.png'), good.subarray(0, 40)); // a PNG cut off after its header
    writeFileSync(join(folder, 'circle', 'words.png'), 'this is not an image');
    const r = await cli('import', folder);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`every skipped file and why: cnn-studio --db ${db} dataset 4`);
    const shown = await cli('dataset', 'shapes');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('dataset 4 "shapes" — folder from');
    expect(shown.stdout).toContain('images 4×4×3 (H×W×C), 2 classes; train 4, test 0; 0 runs');
    expect(shown.stdout).toContain('skipped files: 2');
    expect(shown.stdout).toMatch(/^ {4}circle\/words\.png: not an image \(a text file\)$/m);
    expect(shown.stdout).toMatch(/^ {4}square\/cut\.png: truncated PNG \(the file ends before the image does\)$/m);
    // the decoder's own words do not reach the user
    expect(shown.stdout).not.toMatch(/vips|libpng|Input buffer/);
  });

  it('"no dataset with id or name X" names the datasets there are', async () => {
    const r = await cli('dataset', 'cifar');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('cnn-studio dataset: no dataset with id or name "cifar"; the library has: 1 "Fashion-MNIST sample", 2 "Fashion-MNIST", 3 "pets", 4 "shapes"\n');
  });

  it('renames a dataset and its classes, tags and annotates it', async () => {
    const r = await cli('dataset', 'pets', '--rename', 'animals', '--classes', 'kitten,puppy', '--tags', 'toy,small', '--notes', 'made up');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dataset 3 "animals"');
    expect(r.stdout).toMatch(/^\s*0\s+kitten\s+3\s+0\s*$/m);
    expect(r.stdout).toContain('tags: toy, small');
    expect(r.stdout).toContain('notes: made up');
    const wrong = await cli('dataset', 'animals', '--classes', 'a,b,c');
    expect([wrong.code, wrong.stderr]).toEqual([2, 'cnn-studio dataset: dataset "animals" has 2 classes, got 3 names\n']);
    const taken = await cli('dataset', 'animals', '--rename', 'shapes');
    expect(taken.code).toBe(1); // a conflict with the library, not a malformed command
    expect(taken.stderr).toContain('another dataset (4) is named "shapes"');
  });

  it('a damaged cache is refused before a run exists, with the command that re-imports it; reimport restores it', async () => {
    const cache = cacheFileOf(3);
    truncateSync(cache, 100);
    const runs = count('runs');
    const t = await cli('train', '--dataset', 'animals', '--model', 'mlp', '--epochs', '1');
    expect(t.code).toBe(2);
    expect(t.stderr).toContain(`cnn-studio train: cannot start the run: the decoded images of dataset "animals" (${cache}) are damaged`);
    expect(t.stderr).toContain(`Import the dataset again from ${pets}`);
    expect(t.stderr).toContain(`\n  re-import it with: cnn-studio --db ${db} reimport 3\n`);
    expect(count('runs')).toBe(runs);
    expect((await cli('datasets')).stdout).toContain(`dataset 3 "animals" is not usable: the decoded images of dataset "animals" (${cache}) are damaged`);

    const re = await cli('reimport', '3');
    expect([re.code, re.stdout]).toEqual([0, `re-imported dataset 3 "animals" from ${pets}: usable again\n`]);
    const shown = await cli('dataset', '3');
    expect(shown.stdout).not.toContain('NOT USABLE');
    expect(shown.stdout).toMatch(/^\s*1\s+puppy\s+3\s+0\s*$/m); // the names given since survive

    rmSync(cache);
    const gone = await cli('train', '--dataset', 'animals', '--model', 'mlp', '--epochs', '1');
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`(${cache}) are missing.`);
    expect(count('runs')).toBe(runs);
    const unusable = (await cli('dataset', '3')).stdout;
    expect(unusable).toContain(`NOT USABLE: the decoded images of dataset "animals" (${cache}) are missing.`);
    expect(unusable).toContain(`; re-import with: cnn-studio --db ${db} reimport 3`);
    expect((await cli('reimport', 'animals')).code).toBe(0);
    const trained = await cli('train', '--dataset', 'animals', '--model', 'mlp', '--epochs', '1', '--val-split', '0');
    expect(trained.code, trained.stderr).toBe(0);
  });
});

describe('runs: rename, tag, filter, sort, CSV, delete', () => {
  it('edits a run; --tag and --search filter, --sort orders, --csv writes the table', async () => {
    const a = await cli('train', '--dataset', '1', '--model', 'mlp', '--epochs', '1', '--limit', '100', '--name', 'small mlp');
    expect(a.code, a.stderr).toBe(0);
    const b = await cli('train', '--dataset', '1', '--model', 'tiny-cnn', '--epochs', '1', '--limit', '100', '--name', 'tiny cnn');
    expect(b.code, b.stderr).toBe(0);
    const e = await cli('edit', 'small mlp', '--rename', 'baseline', '--tags', 'keep,mlp', '--notes', 'first try');
    expect([e.code, e.stdout]).toEqual([0, 'run #2 "baseline" · tags keep, mlp · notes: first try\n']);
    const ids = (out: string) => out.split('\n').filter((l) => /^\s*\d+\s/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(ids((await cli('runs', '--tag', 'keep')).stdout)).toEqual([2]);
    expect(ids((await cli('runs', '--search', 'first')).stdout)).toEqual([2]);
    expect(ids((await cli('runs', '--sort', 'created', '--order', 'asc')).stdout)).toEqual([1, 2, 3]);
    expect(ids((await cli('runs')).stdout)).toEqual([3, 2, 1]); // newest first
    const byParams = ids((await cli('runs', '--dataset', '1', '--sort', 'params', '--order', 'asc')).stdout);
    expect(byParams).toHaveLength(2);
    const csv = (await cli('runs', '--csv', '--sort', 'created', '--order', 'asc')).stdout.trim().split('\n');
    expect(csv[0]).toBe('id,name,status,dataset,parent,sweep,tags,epochs_done,epochs,parameters,optimizer,learning_rate,batch_size,best_val_accuracy,last_val_accuracy,test_accuracy,train_seconds,created_at,notes');
    expect(csv[2]).toMatch(/^2,baseline,completed,Fashion-MNIST sample,,,keep;mlp,1,1,\d+,sgd,/);
    expect(csv[2]!.endsWith(',first try')).toBe(true);
    const bad = await cli('runs', '--sort', 'colour');
    expect(bad.code).toBe(2);
  });

  it('deleting a run with forks says so and needs --yes; the fork stays', async () => {
    const f = await cli('fork', 'baseline', '--epochs', '1', '--name', 'baseline fork');
    expect(f.code, f.stderr).toBe(0);
    const refused = await cli('delete', 'baseline');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('run 2 has 1 fork (#4 "baseline fork")');
    expect(refused.stderr).toContain('pass --yes to go ahead');
    expect(count('runs')).toBe(4);
    const done = await cli('delete', 'baseline', '--yes');
    expect([done.code, done.stdout]).toEqual([0, 'deleted run #2 "baseline"\n']);
    expect(count('runs')).toBe(3);
    expect((await cli('show', 'baseline fork')).code).toBe(0);
  });

  it('deleting a dataset that runs use names them and needs --yes; then they go with it', async () => {
    const refused = await cli('delete-dataset', 'animals');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('dataset "animals" is used by 1 run (#1 ');
    expect(refused.stderr).toContain('pass --yes to go ahead');
    expect(count('runs')).toBe(3);
    const cache = cacheFileOf(3);
    const done = await cli('delete-dataset', 'animals', '--yes');
    expect([done.code, done.stdout]).toEqual([0, 'deleted dataset 3 "animals" and 1 run (#1)\n']);
    expect(count('runs')).toBe(2);
    expect(count('datasets')).toBe(3);
    expect((await cli('dataset', 'animals')).code).toBe(2);
    expect(existsSync(cache)).toBe(false);
  });
});

describe('experiments from the CLI: a sweep and a diff', () => {
  it('sweeps the learning rate two at a time, prints the table with the best marked; diff names what changed', async () => {
    const r = await cli('sweep', 'tiny cnn', '--lr', '0.01,0.05', '--parallel', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sweep 1 "sweep of #3 \(grid, learningRate\)": 2 runs queued, two at a time \(one thread each\)$/m);
    const rows = r.stdout.split('\n').filter((l) => /^\s*★?\s*\d+\s+completed\s/.test(l));
    expect(rows).toHaveLength(2);
    expect(r.stdout).toMatch(/★ best: run \d+/);
    const [a, b] = rows.map((l) => Number(l.replace('★', '').trim().split(/\s+/)[0]));
    const d = await cli('diff', String(a), String(b));
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('layers (aligned by sequence)');
    expect(d.stdout).toMatch(/optimizer\.learningRate\s+0\.0[15]\s+0\.0[15]/);
    expect(d.stdout).toMatch(/evaluate #\d+ and #\d+ \(on the test split\)/);
  });
});


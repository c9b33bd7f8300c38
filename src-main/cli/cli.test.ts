import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../db/store.js';
import { tempDir } from '../service/testing.js';
import { runCli } from './index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'cnn-studio.js');
let dir: ReturnType<typeof tempDir>;
let db: string;

beforeAll(() => {
  dir = tempDir();
  db = join(dir.path, 'studio.sqlite');
});
afterAll(() => dir.remove());

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string; lines: Record<string, unknown>[] }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['--db', db, ...argv], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTTY: false });
  const lines = argv.includes('--json') ? stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  return { code, stdout, stderr, lines };
}

const result = (lines: Record<string, unknown>[]) => lines.at(-1) as { type: string; ok: boolean; value: Record<string, unknown>; error?: { code: string; message: string } };

function idx(magic: number, dims: number[], data: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

describe('cnn-studio on the bundled sample', () => {
  it('lists the sample on first start', async () => {
    const r = await cli('datasets');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1\s+Fashion-MNIST sample\s+idx\s+28×28×1\s+10\s+5000\s+1000/);
  });

  it('trains a 1-epoch MLP on a subset with --json: progress events, then the result', async () => {
    // --dataset as a path: the same content as the sample, recognised, nothing imported twice
    const r = await cli('--json', 'train', '--dataset', join(ROOT, 'resources', 'datasets', 'fashion-mnist-sample'), '--model', 'mlp', '--epochs', '1', '--limit', '300', '--batch-size', '30', '--seed', '3', '--lr', '0.05', '--augment-flip', '--augment-shift', '2');
    expect(r.code, r.stderr).toBe(0);
    const types = r.lines.map((l) => l.type);
    expect(types[0]).toBe('runStatus');
    expect(types.filter((t) => t === 'runProgress').length).toBeGreaterThanOrEqual(2);
    const res = result(r.lines);
    expect(res.ok).toBe(true);
    expect(res.value.status).toBe('completed');
    expect(res.value.hyperparameters).toMatchObject({ epochs: 1, batchSize: 30, seed: 3, trainLimit: 300, optimizer: { learningRate: 0.05 }, augment: { flipHorizontal: true, maxShift: 2 } });
    expect(r.lines.find((l) => l.type === 'runStatus' && l.status === 'running')!.kernelsUsed).toBe('wasm-simd');
    expect(res.value.datasetId).toBe(1);
    expect(result((await cli('--json', 'datasets')).lines).value).toHaveLength(1);
  });

  it('trains with the reference kernels and says so; runs, show, eval, compare and export work on the two runs', async () => {
    const t = await cli('train', '--dataset', '1', '--model', 'tiny-cnn', '--epochs', '1', '--limit', '200', '--kernels', 'reference', '--optimizer', 'adam', '--val-split', '0.2');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/training with reference kernels/);
    expect(t.stdout).toMatch(/epoch 1\/1 {2}loss \d\.\d{4} {2}acc [\d.]+%/);
    expect(t.stdout).toMatch(/run 2 completed: 1\/1 epochs/);

    const runs = await cli('runs');
    expect(runs.stdout.split('\n').filter((l) => /^\s*\d+\s/.test(l))).toHaveLength(2);
    const show = await cli('show', '2');
    expect(show.stdout).toMatch(/run 2 ".*" — completed/);
    expect(show.stdout).toMatch(/adam lr 0.001/);
    const ev = await cli('eval', '1');
    expect(ev.code).toBe(0);
    expect(ev.stdout).toMatch(/run 1 on test \(1000 images\): accuracy [\d.]+%/);
    expect(ev.stdout).toMatch(/Ankle boot/);
    const cmp = await cli('compare', '1', '2');
    expect(cmp.code).toBe(0);
    expect(cmp.stdout).toMatch(/optimizer\.type\s+"sgd"\s+"adam"/);
    expect(cmp.stdout).toMatch(/architecture differences/);
    for (const format of ['json', 'onnx', 'csv']) {
      const out = join(dir.path, `m.${format}`);
      const ex = await cli('export', '1', '--format', format, '--out', out);
      expect(ex.code, ex.stderr).toBe(0);
      expect(existsSync(out)).toBe(true);
    }
    expect(readFileSync(join(dir.path, 'm.csv'), 'utf8').split('\n')[0]).toMatch(/^epoch,train_loss/);
    const fork = await cli('fork', '1', '--lr', '0.02', '--epochs', '1', '--name', 'lower lr');
    expect(fork.code, fork.stderr).toBe(0);
    expect(fork.stdout).toMatch(/run 3 completed/);
    const shown = await cli('show', 'lower lr');
    expect(shown.stdout).toMatch(/forked from run 1 \(snapshot \d+, epoch 1\)/);
    expect(shown.stdout).toMatch(/sgd lr 0.02/);
    expect((await cli('show', '1')).stdout).toMatch(/forks: 3/);
    expect(existsSync(join(dir.path, 'm.json.bin'))).toBe(true);
  });

  it('exit codes: 2 for bad usage and refused input, 1 for a failure (resuming a completed run)', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('train', '--dataset', '1')).stderr).toBe('cnn-studio train: train needs --model <spec.json|reference|seed|lenet5|fashion-strong|mlp|tiny-cnn>\n');
    const lr = await cli('train', '--dataset', '1', '--model', 'mlp', '--lr', '-1');
    expect([lr.code, lr.stderr]).toEqual([2, 'cnn-studio train: learning rate must be a positive number, got -1\n']);
    const bs = await cli('train', '--dataset', '1', '--model', 'mlp', '--batch-size', '0');
    expect([bs.code, bs.stderr]).toEqual([2, 'cnn-studio train: batch size must be an integer from 1 to 65536, got 0\n']);
    expect((await cli('train', '--dataset', '1', '--model', 'mlp', '--epochs', 'many')).code).toBe(2);
    const spec = join(dir.path, 'bad-spec.json');
    writeFileSync(spec, JSON.stringify({ inputShape: [28, 28, 1], layers: [{ type: 'conv2d', filters: 8, kernelSize: 30 }, { type: 'flatten' }, { type: 'dense', units: 10 }] }));
    const s = await cli('train', '--dataset', '1', '--model', spec);
    expect([s.code, s.stderr]).toEqual([2, 'cnn-studio train: conv2d #1: kernel 30×30 does not fit input 28×28×1\n']);
    const resume = await cli('--json', 'resume', '1');
    expect(resume.code).toBe(1);
    expect(result(resume.lines).error!.code).toBe('conflict');
    expect((await cli('runs', '--json')).lines.at(-1)!.value).toHaveLength(3);
  });
});

describe('import errors: exit 2, one line naming the file, database unchanged', () => {
  // the third field: what the message must name (the folder, or the bad file by name)
  const cases: [string, (root: string) => string | Promise<string>, string][] = [
    ['a nonexistent path', (root) => join(root, 'missing'), 'bad/missing'],
    ['an empty folder', (root) => (mkdirSync(join(root, 'empty')), join(root, 'empty')), 'bad/empty'],
    ['a folder with a single class', async (root) => {
      mkdirSync(join(root, 'one', 'cats'), { recursive: true });
      const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toBuffer();
      writeFileSync(join(root, 'one', 'cats', 'a.png'), png);
      writeFileSync(join(root, 'one', 'cats', 'b.png'), png);
      return join(root, 'one');
    }, 'bad/one'],
    ['a folder with no decodable image', (root) => {
      for (const c of ['a', 'b']) {
        mkdirSync(join(root, 'junk', c), { recursive: true });
        writeFileSync(join(root, 'junk', c, 'x.png'), 'not an image at all');
      }
      return join(root, 'junk');
    }, 'bad/junk'],
    ['IDX with a wrong magic number', (root) => {
      mkdirSync(join(root, 'magic'));
      writeFileSync(join(root, 'magic', 'train-images-idx3-ubyte'), idx(0x0999, [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]));
      writeFileSync(join(root, 'magic', 'train-labels-idx1-ubyte'), idx(0x0801, [2], [0, 1]));
      return join(root, 'magic');
    }, 'train-images-idx3-ubyte: wrong magic number'],
    ['truncated IDX data', (root) => {
      mkdirSync(join(root, 'trunc'));
      writeFileSync(join(root, 'trunc', 'train-images-idx3-ubyte.gz'), gzipSync(idx(0x0803, [2, 2, 2], [1, 2, 3, 4, 5])));
      writeFileSync(join(root, 'trunc', 'train-labels-idx1-ubyte.gz'), gzipSync(idx(0x0801, [2], [0, 1])));
      return join(root, 'trunc');
    }, 'train-images-idx3-ubyte.gz: truncated'],
    ['IDX label count ≠ image count', (root) => {
      mkdirSync(join(root, 'count'));
      writeFileSync(join(root, 'count', 'train-images-idx3-ubyte'), idx(0x0803, [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]));
      writeFileSync(join(root, 'count', 'train-labels-idx1-ubyte'), idx(0x0801, [3], [0, 1, 1]));
      return join(root, 'count');
    }, 'train-labels-idx1-ubyte: 3 labels but train-images-idx3-ubyte has 2 images'],
    ['CSV with ragged rows', (root) => (writeFileSync(join(root, 'ragged.csv'), '0,1,2,3,4\n1,5,6\n'), join(root, 'ragged.csv')), 'ragged.csv line 2'],
    ['CSV with a non-numeric cell', (root) => (writeFileSync(join(root, 'text.csv'), '0,1,2,3,4\n1,5,x,7,8\n'), join(root, 'text.csv')), 'text.csv line 2, column 3'],
    ['CSV with a non-integer label', (root) => (writeFileSync(join(root, 'label.csv'), '0,1,2,3,4\n1.5,5,6,7,8\n'), join(root, 'label.csv')), 'label.csv line 2'],
  ];
  let root: string;
  let before: string;
  const snapshot = () => {
    const store = new Store(db);
    try {
      return JSON.stringify(['datasets', 'runs', 'meta', 'snapshots'].map((t) => store.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).raw().all()));
    } finally {
      store.close();
    }
  };
  beforeAll(async () => {
    root = join(dir.path, 'bad');
    mkdirSync(root);
    await cli('datasets');
    before = snapshot();
  });
  for (const [name, make, names] of cases) {
    it(name, async () => {
      const r = await cli('import', await make(root));
      expect(r.code).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l && !l.endsWith('…'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^cnn-studio import: \S/);
      expect(lines[0]).toContain(names);
      expect(snapshot()).toBe(before);
    });
  }
});

describe('the real bin: Ctrl-C pauses the run; resume finishes it', () => {
  it('SIGINT during train → paused with a pause snapshot, exit 1; `resume` → completed, exit 0', async () => {
    const child = spawn(process.execPath, [BIN, '--db', db, '--json', 'train', '--dataset', '1', '--model', 'reference', '--epochs', '1', '--limit', '400', '--kernels', 'reference', '--progress-every', '1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const lines: Record<string, unknown>[] = [];
    let signalled = false;
    for await (const line of createInterface({ input: child.stdout })) {
      const m = JSON.parse(line) as Record<string, unknown>;
      lines.push(m);
      if (!signalled && m.type === 'runProgress' && m.kind === 'batch' && (m.batch as number) >= 2) {
        signalled = true;
        child.kill('SIGINT');
      }
    }
    expect(await exited).toBe(1);
    const res = result(lines);
    expect(res.value.status).toBe('paused');
    const runId = res.value.id as number;
    const snapshots = res.value.snapshots as { kind: string; step: number }[];
    expect(snapshots.map((s) => s.kind)).toEqual(['pause']);
    expect(snapshots[0]!.step).toBeGreaterThanOrEqual(2);

    const resumed = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, [BIN, '--db', db, 'resume', String(runId)], { cwd: ROOT });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('exit', (code) => resolve({ code, out }));
    });
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(new RegExp(`run ${runId} completed: 1/1 epochs`));
  });
});

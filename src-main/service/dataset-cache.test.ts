/**
 * A dataset's decoded images (its cache file) gone or damaged: every command that would depend on
 * them checks first and changes nothing when they are not right — a paused run stays paused
 * (resumable), no run row is made, nothing is forked or evaluated — and says how to get them back. Importing
 * the dataset again from its source restores the file, and the run resumes to its end.
 */
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../contract/index.js';
import type { DatasetRow } from '../db/store.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { countRows, MLP_SPEC, openService, pausedRun, QUICK, tempDir } from './testing.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
let sample: DatasetRow;
let original: Buffer;
let pausedRunId: number;
let pausedDetail: RunDetail;

beforeAll(async () => {
  dir = tempDir();
  service = await openService(dir.path);
  sample = service.store.getDataset(service.datasets.find(SAMPLE_DATASET_NAME).id)!;
  original = readFileSync(sample.cacheFile);
  pausedRunId = await pausedRun(service, sample.id);
  pausedDetail = service.runs.detail(pausedRunId, true);
});
afterAll(async () => {
  await service?.close();
  dir?.remove();
});

const DAMAGES: [string, () => void, RegExp][] = [
  ['deleted', () => rmSync(sample.cacheFile), /are missing\./],
  ['truncated', () => truncateSync(sample.cacheFile, 4096), /are damaged \(.*: 4096 bytes, expected \d+ for 5000\+1000 images of 28×28×1\)\./],
  ['overwritten with garbage', () => writeFileSync(sample.cacheFile, Buffer.alloc(original.length, 7)), /are damaged \(.*not a CNN Studio dataset cache file \(bad magic\)\)\./],
  ['replaced by another dataset\'s file', () => writeFileSync(sample.cacheFile, otherCache()), /are damaged \(it holds \d+\+0 images of 28×28×1, the library expects 5000\+1000 of 28×28×1\)\./],
];

/** A valid cache file of other images (the first 30 sample images as a folder import). */
let other: Buffer | null = null;
function otherCache(): Buffer {
  if (!other) throw new Error('otherCache() before it was made');
  return other;
}

describe('a missing or damaged dataset cache is found before anything changes', () => {
  beforeAll(async () => {
    const { mkdirSync } = await import('node:fs');
    const thumbs = await service.exec('getThumbnails', { datasetId: sample.id, split: 'train', indices: Array.from({ length: 30 }, (_, i) => i) });
    for (const t of thumbs.filter((x) => x.label < 2)) {
      mkdirSync(`${dir.path}/other/${t.label}`, { recursive: true });
      writeFileSync(`${dir.path}/other/${t.label}/${t.index}.png`, Buffer.from(t.base64, 'base64'));
    }
    const r = await service.datasets.import({ path: `${dir.path}/other` });
    other = readFileSync(service.store.getDataset(r.dataset.id)!.cacheFile);
  });

  for (const [what, damage, reason] of DAMAGES) {
    it(`${what}: resume, start, fork and evaluate are refused saying how to get it back; the paused run is unchanged`, async () => {
      damage();
      try {
        const how = new RegExp(`the decoded images of dataset "${SAMPLE_DATASET_NAME}" \\(${sample.cacheFile}\\) ${reason.source} Import the dataset again from ${sample.source} \\(the same images are recognised and the file is written again\\)`);
        const runs = countRows(service, 'runs');
        const resumed = await service.call('resumeRun', { id: pausedRunId });
        expect(resumed.ok ? null : resumed.error.code).toBe('conflict');
        expect(resumed.ok ? '' : resumed.error.message).toMatch(new RegExp(`^cannot resume run ${pausedRunId}: ${how.source}; nothing was changed$`));
        expect(service.runs.detail(pausedRunId, true)).toEqual(pausedDetail);
        const started = await service.call('startRun', { datasetId: sample.id, spec: MLP_SPEC, hyperparameters: QUICK });
        expect(started.ok ? '' : started.error.message).toMatch(new RegExp(`^cannot start the run: ${how.source}`));
        expect(countRows(service, 'runs')).toBe(runs);
        const forked = await service.call('forkRun', { runId: pausedRunId });
        expect(forked.ok ? '' : forked.error.message).toMatch(/^cannot fork the run: /);
        const evaluated = await service.call('evaluateRun', { runId: pausedRunId });
        expect(evaluated.ok ? '' : evaluated.error.message).toMatch(new RegExp(`^cannot evaluate run ${pausedRunId}: `));
        expect(countRows(service, 'evaluations')).toBe(0);
      } finally {
        writeFileSync(sample.cacheFile, original);
      }
    });
  }

  it('importing the dataset again from its source writes the file again; the paused run then resumes to its end', async () => {
    rmSync(sample.cacheFile);
    const again = await service.call('importDataset', { path: sample.source });
    expect(again.ok && [again.value.alreadyImported, again.value.dataset.id]).toEqual([true, sample.id]);
    expect(readFileSync(sample.cacheFile).equals(original)).toBe(true);
    service.runs.resume(pausedRunId);
    const done = await service.runs.waitFor(pausedRunId);
    expect(done.status).toBe('completed');
    expect(service.runs.detail(pausedRunId, false).epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
  });
});

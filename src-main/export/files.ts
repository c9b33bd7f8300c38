/**
 * Writing exports to disk, for the CLI and the service: the pure functions produce the bytes, these
 * put them in files. The model JSON's weights go next to it as FILE.bin, and the JSON names that file.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Kernels } from '../../src-engine/kernels/types.js';
import type { Model } from '../../src-engine/model.js';
import type { ModelSpec } from '../../src-engine/spec.js';
import { ExportError } from './layout.js';
import { exportModelJson, importModelJson, modelFromJson, type ImportedModel, type ModelJsonMeta } from './model-json.js';

/** The weights file beside a model JSON file: its name + '.bin' (model.json → model.json.bin). */
export function modelJsonWeightsName(jsonName: string): string {
  return `${jsonName}.bin`;
}

/** Write to a temporary name, then rename: a crash never leaves half a file under the real name. */
export function writeAtomic(path: string, data: Uint8Array | string, mode?: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes FILE (JSON) and FILE.bin; returns both paths. */
export function writeModelJsonFiles(path: string, spec: ModelSpec, weights: Float32Array, meta: Omit<ModelJsonMeta, 'weightsFile'> = {}): { jsonPath: string; binPath: string } {
  const binPath = join(dirname(path), modelJsonWeightsName(basename(path)));
  const { json, bin } = exportModelJson(spec, weights, { ...meta, weightsFile: basename(binPath) });
  writeAtomic(binPath, bin);
  writeAtomic(path, json);
  return { jsonPath: path, binPath };
}

function readWeightsFor(path: string, json: string): Uint8Array {
  let file: unknown;
  try {
    file = (JSON.parse(json) as { weights?: { file?: unknown } }).weights?.file;
  } catch {
    file = undefined; // importModelJson reports the parse error with its own message
  }
  const binPath = join(dirname(path), typeof file === 'string' && file !== '' ? basename(file) : modelJsonWeightsName(basename(path)));
  try {
    return readFileSync(binPath);
  } catch (e) {
    throw new ExportError(`cannot read the weights file ${binPath} for ${path}: ${(e as Error).message}`);
  }
}

/** Reads FILE and the .bin it names (FILE.bin when it names none). */
export function readModelJsonFiles(path: string): ImportedModel {
  const json = readFileSync(path, 'utf8');
  return importModelJson(json, readWeightsFor(path, json));
}

export function loadModelJsonFiles(path: string, options: { kernels?: Kernels } = {}): Model {
  const json = readFileSync(path, 'utf8');
  return modelFromJson(json, readWeightsFor(path, json), options);
}

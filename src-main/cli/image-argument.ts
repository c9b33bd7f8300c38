/** How the CLI names an image to look at: one of the run's dataset's own, or a file on disk. */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { REQUEST_LIMITS, type ImageInput } from '../contract/index.js';
import { ServiceError } from '../service/errors.js';
import { UsageError } from './args.js';

/** An image argument of predict (and saliency): `test:N` / `train:N` (the run's dataset's own image), else a file the local user named. */
export function imageArgument(arg: string, datasetId: number): ImageInput {
  const own = /^(test|train):(\d+)$/.exec(arg);
  if (own) return { type: 'dataset', datasetId, split: own[1] as 'test' | 'train', index: Number(own[2]) };
  let size: number;
  try {
    const st = statSync(arg);
    if (!st.isFile()) throw new UsageError(`${arg} is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new ServiceError('not_found', `${arg}: no such image file (or write test:N / train:N for an image of the run's dataset)`);
  }
  // bounded before it is read, as the service bounds it
  if (size > REQUEST_LIMITS.imageFileBytes) throw new ServiceError('bad_request', `${arg} is ${size} bytes, more than the limit of ${REQUEST_LIMITS.imageFileBytes}`);
  return { type: 'file', base64: readFileSync(arg).toString('base64'), name: basename(arg) };
}

/** Images of a dataset by index, as PNG (optionally upscaled) or raw pixels, for galleries. */
import sharp from 'sharp';
import type { Thumbnail, ThumbnailsRequest } from '../contract/index.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';

export async function thumbnails(library: DatasetLibrary, req: ThumbnailsRequest): Promise<Thumbnail[]> {
  const d = library.row(req.datasetId); // tensors() refuses a missing or damaged cache
  const t = library.tensors(d);
  const split = req.split === 'train' ? t.train : t.test;
  const n = split?.n ?? 0;
  const [h, w, c] = t.shape;
  const size = h * w * c;
  const scale = req.scale ?? 1;
  const format = req.format ?? 'png';
  const outside = req.indices.find((index) => index >= n);
  if (outside !== undefined) throw new ServiceError('bad_request', `image index ${outside} is outside the ${req.split} split (0 to ${n - 1})`, { field: 'indices' });
  return Promise.all(req.indices.map(async (index) => {
    const pixels = split!.images.subarray(index * size, (index + 1) * size);
    const label = split!.labels[index]!;
    let bytes: Uint8Array = pixels;
    if (format === 'png') {
      let img = sharp(Buffer.from(pixels), { raw: { width: w, height: h, channels: c as 1 | 3 } });
      if (scale > 1) img = img.resize(w * scale, h * scale, { kernel: 'nearest' });
      bytes = await img.png().toBuffer();
    }
    return {
      // the library's names: classes renamed after the import are not in the cache file
      index, label, className: d.classNames[label] ?? String(label), width: format === 'png' ? w * scale : w,
      height: format === 'png' ? h * scale : h, channels: c, format, base64: Buffer.from(bytes).toString('base64'),
    } satisfies Thumbnail;
  }));
}

/**
 * The script of an exported page (bundled into it at export time, see ../page-script.ts): it
 * rebuilds the run's model with the engine's own reference kernels (src-engine/model.ts, pure
 * TypeScript, no WebAssembly, no network), then classifies each image dropped on the page, chosen,
 * pasted or drawn, prepared as training prepared the dataset's images (./prepare.ts), and shows the
 * class probabilities as bars and what was done to the image. The markup is ./markup.ts's.
 */
import { buildModel, type Model } from '../../../../src-engine/model.js';
import { floatsFromBase64, SHARE_DATA_ID, SHARE_FORMAT, type ShareData } from './data.js';
import { declaredChannels } from './file-header.js';
import { prepareDrawn, prepareRgba, type PreparedPixels } from './prepare.js';

/** Pixels of one image the page decodes (the studio's import limit). */
const MAX_PIXELS = 50_000_000;

const byId = <T extends HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

function fail(message: string): void {
  const el = byId('error');
  el.textContent = message;
  el.hidden = false;
}

function loadModel(): { data: ShareData; model: Model } {
  const data = JSON.parse(byId(SHARE_DATA_ID).textContent ?? '') as ShareData;
  if (data.format !== SHARE_FORMAT) throw new Error(`this page's model is not a ${SHARE_FORMAT} (${String(data.format)})`);
  const model = buildModel(data.spec);
  if (model.values.length !== data.values.count) throw new Error(`the model has ${model.values.length} values but the page carries ${data.values.count}`);
  model.values.set(floatsFromBase64(data.values.base64, data.values.count));
  return { data, model };
}

function formatOf(file: File): string {
  const fromType = /^image\/([a-z0-9.+-]+)$/i.exec(file.type)?.[1];
  const fromName = /\.([a-z0-9]+)$/i.exec(file.name)?.[1];
  return (fromType ?? fromName ?? 'image').replace(/^svg\+xml$/i, 'svg');
}

async function decode(file: File): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`${file.name || 'the file'} is not an image this browser can read`);
  }
  const { width, height } = bitmap;
  if (width * height > MAX_PIXELS) throw new Error(`${width}×${height} pixels, more than the limit of ${MAX_PIXELS} pixels per image`);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { width, height, data: ctx.getImageData(0, 0, width, height).data };
}

/** Gray or RGB (H, W, C) bytes on a canvas of the input's size (CSS scales it up, pixelated). */
function paint(canvas: HTMLCanvasElement, pixels: Uint8Array, width: number, height: number, channels: number): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(width, height);
  for (let p = 0; p < width * height; p++) {
    for (let ch = 0; ch < 3; ch++) image.data[4 * p + ch] = pixels[p * channels + (channels === 1 ? 0 : ch)]!;
    image.data[4 * p + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

function start(): void {
  let loaded: { data: ShareData; model: Model };
  try {
    loaded = loadModel();
  } catch (e) {
    fail(`This page cannot run its model: ${(e as Error).message}`);
    return;
  }
  const { data, model } = loaded;
  const [h, w, c] = data.spec.inputShape;

  function show(what: string, prepared: PreparedPixels): void {
    const probabilities = Array.from(model.predict(Float32Array.from(prepared.pixels, (v) => v / 255), 1));
    const ranked = probabilities.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p || a.i - b.i);
    paint(byId<HTMLCanvasElement>('prepared'), prepared.pixels, w, h, c);
    byId('source').textContent = what;
    byId('steps').replaceChildren(...prepared.steps.map((s) => Object.assign(document.createElement('li'), { textContent: s })));
    const bars = byId('bars');
    bars.replaceChildren(...ranked.map(({ p, i }) => {
      const li = document.createElement('li');
      const name = data.dataset.classNames[i] ?? String(i);
      li.dataset.testid = 'probability';
      li.dataset.class = name;
      li.dataset.classIndex = String(i);
      li.dataset.p = String(p);
      const label = Object.assign(document.createElement('span'), { className: 'name', textContent: name, title: name });
      const track = Object.assign(document.createElement('span'), { className: 'track' });
      const fill = Object.assign(document.createElement('span'), { className: 'fill' });
      fill.style.width = `${Math.max(0.5, p * 100)}%`;
      track.append(fill);
      const value = Object.assign(document.createElement('span'), { className: 'value', textContent: `${(p * 100).toFixed(1)}%` });
      li.append(label, track, value);
      return li;
    }));
    byId('error').hidden = true;
    byId('result').hidden = false;
  }

  async function tryFile(file: File | null | undefined): Promise<void> {
    if (!file) return;
    try {
      const declared = declaredChannels(new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer()));
      show(file.name || 'the pasted image', prepareRgba(await decode(file), formatOf(file), declared, data.spec.inputShape));
    } catch (e) {
      fail((e as Error).message);
    }
  }

  const drop = byId('drop');
  const input = byId<HTMLInputElement>('file');
  drop.addEventListener('click', () => input.click());
  drop.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && input.click());
  input.addEventListener('change', () => void tryFile(input.files?.[0]));
  // the whole page takes a drop, as the studio's window does
  document.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('dragging'); });
  document.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  document.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('dragging'); void tryFile(e.dataTransfer?.files[0]); });
  document.addEventListener('paste', (e) => void tryFile([...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'))));

  // a pad of the input's size for small gray sets, white on black as Fashion-MNIST's images are
  if (c === 1 && h <= 64 && w <= 64) setUpPad(w, h, (pixels) => show('your drawing', prepareDrawn(pixels, w, h, data.spec.inputShape)));
  byId('ready').textContent = `Ready: ${data.dataset.classNames.length} classes, ${w}×${h} ${c === 1 ? 'gray' : 'colour'} input.`;
  document.body.dataset.ready = 'true';
}

/** The studio's pad (src-renderer's DrawingPad): a soft round brush about 1/12 of the pad wide. */
function setUpPad(width: number, height: number, drawn: (pixels: Uint8Array) => void): void {
  const canvas = byId<HTMLCanvasElement>('pad');
  byId('pad-box').hidden = false;
  let grid = new Uint8Array(width * height);
  let drawing = false;
  const redraw = () => paint(canvas, grid, width, height, 1);
  const stroke = (e: PointerEvent) => {
    const rect = canvas.getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * width;
    const y = ((e.clientY - rect.top) / rect.height) * height;
    const r = Math.max(1.2, width / 12);
    for (let py = Math.floor(y - r - 1); py <= Math.ceil(y + r + 1); py++) {
      for (let px = Math.floor(x - r - 1); px <= Math.ceil(x + r + 1); px++) {
        if (px < 0 || py < 0 || px >= width || py >= height) continue;
        const v = Math.round(255 * Math.min(1, Math.max(0, r - Math.hypot(px + 0.5 - x, py + 0.5 - y) + 0.5)));
        if (v > grid[py * width + px]!) grid[py * width + px] = v;
      }
    }
    redraw();
  };
  const end = () => {
    if (!drawing) return;
    drawing = false;
    drawn(grid.slice());
  };
  canvas.addEventListener('pointerdown', (e) => { drawing = true; canvas.setPointerCapture(e.pointerId); stroke(e); });
  canvas.addEventListener('pointermove', (e) => drawing && stroke(e));
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  byId('pad-clear').addEventListener('click', () => { grid = new Uint8Array(width * height); redraw(); });
  redraw();
}

start();

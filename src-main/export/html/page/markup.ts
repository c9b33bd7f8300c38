/**
 * The exported page's HTML: one file with its style, its model (a JSON script element) and its
 * script inlined. Its Content-Security-Policy allows nothing from anywhere — no fetch, no external
 * script, style, font or image — so the page provably works offline: everything it runs is in it.
 */
import { SHARE_DATA_ID, type ShareData } from './data.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
/** JSON inside a script element: no "</script" or "<!--" can end or confuse it. */
const scriptSafeJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

export const PAGE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { color-scheme: light dark; --fg: #0f172a; --muted: #64748b; --bg: #f8fafc; --card: #fff; --border: #e2e8f0; --accent: #2563eb; --error: #b91c1c; }
@media (prefers-color-scheme: dark) { :root { --fg: #e2e8f0; --muted: #94a3b8; --bg: #0f172a; --card: #1e293b; --border: #334155; --accent: #60a5fa; --error: #f87171; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.35rem; margin: 0 0 0.2rem; }
.muted { color: var(--muted); }
.small { font-size: 0.82rem; }
.grid { display: grid; grid-template-columns: minmax(14rem, 19rem) 1fr; gap: 1rem; margin-top: 1rem; }
@media (max-width: 720px) { .grid { grid-template-columns: 1fr; } }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 0.9rem 1rem; display: flex; flex-direction: column; gap: 0.7rem; }
.drop { border: 2px dashed var(--border); border-radius: 8px; padding: 0.9rem; cursor: pointer; display: flex; flex-direction: column; gap: 0.25rem; }
.drop.dragging { border-color: var(--accent); }
canvas { image-rendering: pixelated; background: #000; border-radius: 4px; }
#pad { width: 196px; height: 196px; touch-action: none; cursor: crosshair; }
#prepared { width: 112px; height: 112px; }
.row { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }
.prepared { display: flex; gap: 0.9rem; align-items: flex-start; }
ol.steps { margin: 0; padding-left: 1.1rem; font-size: 0.85rem; }
ol.bars { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 0.25rem; }
ol.bars li { display: grid; grid-template-columns: minmax(5rem, 9rem) 1fr 3.6rem; gap: 0.5rem; align-items: center; font-size: 0.88rem; }
ol.bars li:first-child { font-weight: 600; }
.name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.track { height: 0.8rem; background: var(--border); border-radius: 3px; overflow: hidden; }
.fill { display: block; height: 100%; background: var(--accent); }
.value { text-align: right; font-variant-numeric: tabular-nums; }
button { font: inherit; padding: 0.2rem 0.7rem; border-radius: 6px; border: 1px solid var(--border); background: var(--card); color: inherit; cursor: pointer; }
#error { color: var(--error); }
h2 { font-size: 1rem; margin: 0; }
`;

export interface PageMarkupInput {
  data: ShareData;
  /** The bundled script (an IIFE). */
  script: string;
  /** e.g. "test accuracy 84.2 %" — shown under the title when known. */
  summary: string;
}

export function pageHtml({ data, script, summary }: PageMarkupInput): string {
  if (/<\/script/i.test(script)) throw new Error('the page script contains "</script": it cannot be inlined');
  const [h, w, c] = data.spec.inputShape;
  const title = `${data.run.name} — ${data.dataset.name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="CNN Studio ${escapeHtml(data.producer)}">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(data.run.name)}</h1>
<div class="muted small">A classifier of ${escapeHtml(data.dataset.name)}'s ${data.dataset.classNames.length} classes (${escapeHtml(data.dataset.classNames.join(', '))}), run ${data.run.id}, snapshot of epoch ${data.run.epoch}${summary ? `, ${escapeHtml(summary)}` : ''}. Exported by CNN Studio as one file: the weights and the studio's own inference code are inside it, and it needs no server and no network.</div>
<div class="grid">
<section class="card">
<div id="pad-box" hidden>
<canvas id="pad" data-testid="drawing-pad" aria-label="drawing pad, ${w}×${h}"></canvas>
<div class="row small"><span class="muted">Draw (${w}×${h}, white on black)</span><button id="pad-clear" type="button" data-testid="drawing-clear">Clear</button></div>
</div>
<div id="drop" class="drop" role="button" tabindex="0" data-testid="image-drop">
<strong>Drop, paste or choose an image</strong>
<span class="small muted">PNG, JPEG, WebP, GIF — prepared as training prepared ${escapeHtml(data.dataset.name)}'s images (${w}×${h}, ${c === 1 ? 'gray' : 'colour'})</span>
<input id="file" type="file" accept="image/*" data-testid="image-file" hidden>
</div>
<div id="ready" class="small muted" data-testid="ready">Loading the model…</div>
<div id="error" role="alert" data-testid="error" hidden></div>
</section>
<section class="card" id="result" data-testid="result" hidden>
<h2>What it says about <span id="source"></span></h2>
<div class="prepared"><canvas id="prepared" data-testid="prepared-image" aria-label="the image as the model saw it"></canvas>
<ol id="steps" class="steps" data-testid="preprocessing-steps"></ol></div>
<ol id="bars" class="bars" data-testid="probability-bars"></ol>
</section>
</div>
</main>
<script type="application/json" id="${SHARE_DATA_ID}">${scriptSafeJson(data)}</script>
<script>${script}</script>
</body>
</html>
`;
}

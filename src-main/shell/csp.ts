/**
 * The renderer's Content-Security-Policy, sent as a header with every response of the app scheme
 * (renderer-protocol.ts). Only the app's own files: no inline or eval'd script, no remote origin of
 * any kind, no plugins, frames, forms or <base>. Images also from data: URLs (thumbnails arrive
 * as base64 PNGs). The renderer sets styles through the CSSOM (Svelte's style: directives, Chart.js),
 * which CSP does not govern, so no 'unsafe-inline' is needed for styles either.
 */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'object-src': ["'none'"],
};

export const CONTENT_SECURITY_POLICY = Object.entries(CSP_DIRECTIVES).map(([k, v]) => `${k} ${v.join(' ')}`).join('; ');

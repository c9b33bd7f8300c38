/**
 * The browser mode's upload (a browser cannot tell the page where a dropped file lives): the page
 * sends the dropped file — or a tar it packed of a dropped folder or several files — to
 *   POST /api/upload?fileName=…&importId=…[&name=…]   body: the bytes (application/octet-stream)
 * with the token, and the server imports it like a path (importDataset), answering the same Result
 * and the same lint report. The size bound is checked by the page before it sends and by the
 * server while it reads. Pure: the renderer imports it too.
 */
import { custom, optional, request, string } from './schema.js';

export const UPLOAD_PATH = '/api/upload';
/** The most one upload may carry: above it the page refuses at once and points to importing by path. */
export const MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;

export const uploadQuery = request({
  /** The uploaded file's own name (its extension tells the importer what it is); never a path. */
  fileName: custom<string>('a file name without folders (no / or \\)', (v) =>
    typeof v === 'string' && v.length > 0 && v.length <= 200 && !/[\\/\0]/.test(v) && v !== '.' && v !== '..'),
  importId: string({ minLength: 1, maxLength: 100 }),
  name: optional(string({ minLength: 1, maxLength: 200 })),
});

/** The refusal above the bound, in the words the page and the server both use. */
export function uploadTooLarge(bytes: number, max: number = MAX_UPLOAD_BYTES): string {
  const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
  return `${mb(bytes)} is more than the browser mode uploads at once (${mb(max)}): import it by its path instead (type the path above, use the cnn-studio CLI, or the desktop app)`;
}

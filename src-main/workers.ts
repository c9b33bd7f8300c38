/**
 * Starting a worker thread from a sibling module, from source or built. Node 20 cannot start a .ts
 * worker, so from source (tsx: tests, scripts, the CLI in development) the worker is the eval
 * bootstrap of TOOLCHAIN.md that loads the entry through tsx; built JavaScript starts the .js file.
 * The bundled Electron app passes its own factories (electron-vite's `?nodeWorker`) instead.
 */
import { Worker } from 'node:worker_threads';

/** True when `moduleUrl` (an import.meta.url) is TypeScript source; tsx may add a query, so the path only. */
export function isTypeScriptModule(moduleUrl: string): boolean {
  return new URL(moduleUrl).pathname.endsWith('.ts');
}

/** A worker running `entry`, a .ts file through tsx or a .js file directly. */
export function startWorker(entry: URL, workerData?: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  // resolved here, absolutely: an eval'd worker resolves bare names from the process's cwd
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => m.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** The entry `<name>.ts` or `<name>.js` next to `moduleUrl`, matching how that module is running. */
export function siblingEntry(moduleUrl: string, name: string): URL {
  return new URL(`./${name}${isTypeScriptModule(moduleUrl) ? '.ts' : '.js'}`, moduleUrl);
}

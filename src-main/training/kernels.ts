/**
 * Picks the kernel set for a run. 'fast' is the WASM SIMD set (issue 4) when its module is present
 * and loads; otherwise the reference loops, and the run records which one it really used.
 */
import { referenceKernels, type Kernels } from '../../src-engine/index.js';
import type { KernelChoice } from '../contract.js';

// A variable specifier keeps TypeScript from requiring the module before it exists.
const FAST_KERNELS_MODULE = '../../src-engine/kernels/wasm/index.js';

function isKernels(v: unknown): v is Kernels {
  return !!v && typeof v === 'object' && typeof (v as Kernels).conv2dForward === 'function' && typeof (v as Kernels).denseBackward === 'function';
}

let fastKernels: Promise<Kernels | null> | null = null;

/** Finds a Kernels object among the module's exports, or calls its loader (load/create/init…Kernels). */
async function loadFast(): Promise<Kernels | null> {
  try {
    const mod = (await import(/* @vite-ignore */ FAST_KERNELS_MODULE)) as Record<string, unknown>;
    for (const value of Object.values(mod)) if (isKernels(value)) return value;
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value === 'function' && /^(load|create|init|make)\w*kernels$/i.test(name)) {
        const k = await (value as () => unknown)();
        if (isKernels(k)) return k;
      }
    }
    return null;
  } catch {
    return null;
  }
}

export async function resolveKernels(choice: KernelChoice): Promise<Kernels> {
  if (choice === 'reference') return referenceKernels;
  fastKernels ??= loadFast();
  return (await fastKernels) ?? referenceKernels;
}

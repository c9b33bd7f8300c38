/**
 * The one place a kernel choice becomes a kernel set. 'fast' is the fastest WebAssembly SIMD
 * variant this JavaScript engine runs, and where it runs none, the reference loops — the same
 * results, slower. The set's `name` says which one it really is ('wasm-relaxed-simd', 'wasm-simd'
 * or 'reference'); that is what a run records. The model's caller, the data-parallel pool and each
 * of its replicas all resolve through here, so a 'fast' run without SIMD trains on the reference
 * loops everywhere instead of failing in a replica.
 */
import { referenceKernels } from './reference.js';
import type { Kernels } from './types.js';
import { fastKernels, WasmUnavailableError } from './wasm/index.js';

export type KernelChoice = 'fast' | 'reference';

export function resolveKernels(choice: KernelChoice): Kernels {
  if (choice === 'reference') return referenceKernels;
  if (choice !== 'fast') throw new Error(`kernels must be 'fast' or 'reference', got ${JSON.stringify(choice)}`);
  try {
    return fastKernels();
  } catch (e) {
    if (e instanceof WasmUnavailableError) return referenceKernels;
    throw e;
  }
}

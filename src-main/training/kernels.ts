/**
 * Picks the kernel set for a run: 'fast' is the WASM SIMD set when this JavaScript engine supports
 * it, else the reference loops; the run records the name of the set it really used.
 */
import { referenceKernels, type Kernels } from '../../src-engine/index.js';
import { fastKernels } from '../../src-engine/kernels/wasm/index.js';
import type { KernelChoice } from '../contract/index.js';

export function resolveKernels(choice: KernelChoice): Kernels {
  if (choice === 'reference') return referenceKernels;
  try {
    return fastKernels();
  } catch {
    // no WebAssembly SIMD here (WasmUnavailableError): the reference loops give the same results, slower
    return referenceKernels;
  }
}

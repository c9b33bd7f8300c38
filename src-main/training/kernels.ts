/**
 * The kernel resolver lives in the engine (src-engine/kernels/resolve.ts), where the model, the
 * data-parallel replicas and the jobs all use it; this re-export keeps the older import path working.
 */
export { resolveKernels } from '../../src-engine/kernels/resolve.js';

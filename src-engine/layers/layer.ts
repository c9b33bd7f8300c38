import type { Kernels } from '../kernels/types.js';
import type { Rng } from '../rng.js';
import type { DType, FloatArray, Shape3 } from '../tensor.js';

/** A parameter: value and grad are views into the model's two flat buffers. */
export interface Param<T extends FloatArray = FloatArray> {
  name: string;
  shape: number[];
  value: T;
  grad: T;
}

export interface LayerContext {
  dtype: DType;
  kernels: Kernels;
  /** Shared by every dropout layer of the model; its state is part of the trainer state. */
  dropoutRng: Rng;
}

export interface Layer {
  readonly label: string;
  readonly inShape: Shape3;
  readonly outShape: Shape3;
  readonly params: Param[];
  /** x is (n, ...inShape); returns (n, ...outShape), a buffer the layer owns until its next forward. */
  forward(x: FloatArray, n: number, training: boolean): FloatArray;
  /** dout is (n, ...outShape); accumulates parameter grads; returns dx unless needInputGrad is false. */
  backward(dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null;
}

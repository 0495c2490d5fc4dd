/**
 * The shallow CNN of the SGT paper's MNIST experiments, as plain parameter tensors and a
 * forward function: conv 32 3x3, relu, conv 64 3x3, relu, maxpool 2, dropout .25, flatten,
 * fc 128, relu, dropout .5, fc classes. Parameter names and initialisation follow PyTorch
 * (conv1.weight, ..., fc2.bias; uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), which is what
 * kaiming_uniform(a=sqrt(5)) and the default bias init amount to).
 *
 * @module
 */

import { conv2d, dropout, linear, maxPool2d } from "../tensor/functional.ts";
import { keep, tidy } from "../tensor/engine.ts";
import { uniform } from "../tensor/create.ts";
import type { Device } from "../tensor/device.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Shape options of the shallow CNN. */
export interface ShallowCnnOptions {
  /** Input channels (1 for Fashion-MNIST, 3 for CIFAR). */
  inChannels?: number;
  /** Input height = width (28 for Fashion-MNIST, 32 for CIFAR). */
  imageSize?: number;
  /** Output classes. */
  numClasses?: number;
  /** Device of the parameters. */
  device?: Device;
}

/** A shallow CNN: named parameters and a forward pass. */
export interface ShallowCnn {
  /** Parameters by PyTorch name, all with requiresGrad. */
  params: Map<string, Tensor>;
  /** Logits (N, classes) for input (N, C, H, W); dropout is active when `train`. */
  forward(x: Tensor, train: boolean): Tensor;
}

/** Creates a freshly initialised shallow CNN (draws from libtorch's seeded generator). */
export function createShallowCnn(options: ShallowCnnOptions = {}): ShallowCnn {
  const c = options.inChannels ?? 1;
  const size = options.imageSize ?? 28;
  const classes = options.numClasses ?? 10;
  const flat = 64 * Math.floor((size - 4) / 2) ** 2;
  const params = new Map<string, Tensor>();
  const add = (name: string, shape: number[], fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    const t = keep(uniform(shape, -bound, bound, { device: options.device }));
    t.requiresGrad = true;
    params.set(name, t);
  };
  add("conv1.weight", [32, c, 3, 3], c * 9);
  add("conv1.bias", [32], c * 9);
  add("conv2.weight", [64, 32, 3, 3], 32 * 9);
  add("conv2.bias", [64], 32 * 9);
  add("fc1.weight", [128, flat], flat);
  add("fc1.bias", [128], flat);
  add("fc2.weight", [classes, 128], 128);
  add("fc2.bias", [classes], 128);
  const p = (name: string) => params.get(name)!;
  return {
    params,
    forward: (x, train) =>
      tidy(() => {
        let h = conv2d(x, p("conv1.weight"), { bias: p("conv1.bias") }).relu();
        h = conv2d(h, p("conv2.weight"), { bias: p("conv2.bias") }).relu();
        h = dropout(maxPool2d(h, 2), 0.25, train).flatten(1);
        h = dropout(linear(h, p("fc1.weight"), p("fc1.bias")).relu(), 0.5, train);
        return linear(h, p("fc2.weight"), p("fc2.bias"));
      }),
  };
}

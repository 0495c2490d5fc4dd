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
import { Conv2d, Dropout, Linear } from "../nn/layers.ts";
import { Module } from "../nn/module.ts";

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

/**
 * The shallow CNN as a Module (keys conv1.*, conv2.*, fc1.*, fc2.*). The flattened size is
 * computed from imageSize and inChannels, so 28x28x1 and 32x32x3 inputs both work.
 */
export class ShallowCNN extends Module {
  /** conv 32 3x3 */
  readonly conv1: Conv2d;
  /** conv 64 3x3 */
  readonly conv2: Conv2d;
  /** fc 128 */
  readonly fc1: Linear;
  /** fc classes */
  fc2: Linear;
  readonly #dropout1 = new Dropout(0.25);
  readonly #dropout2 = new Dropout(0.5);
  /** Creates the network with torch's default initialisation. */
  constructor(options: ShallowCnnOptions = {}) {
    super();
    const c = options.inChannels ?? 1;
    const size = options.imageSize ?? 28;
    if (size < 6) throw new RangeError(`imageSize must be at least 6, got ${size}`);
    const flat = 64 * Math.floor((size - 4) / 2) ** 2;
    const dev = { device: options.device };
    this.conv1 = this.registerModule("conv1", new Conv2d(c, 32, 3, dev));
    this.conv2 = this.registerModule("conv2", new Conv2d(32, 64, 3, dev));
    this.registerModule("dropout1", this.#dropout1);
    this.registerModule("dropout2", this.#dropout2);
    this.fc1 = this.registerModule("fc1", new Linear(flat, 128, dev));
    this.fc2 = this.registerModule("fc2", new Linear(128, options.numClasses ?? 10, dev));
  }
  /** Logits (N, classes). */
  forward(x: Tensor): Tensor {
    let h = this.conv2.forward(this.conv1.forward(x).relu()).relu();
    h = this.#dropout1.forward(maxPool2d(h, 2)).flatten(1);
    h = this.#dropout2.forward(this.fc1.forward(h).relu());
    return this.fc2.forward(h);
  }
  /** Replaces the classifier with a fresh one for `numClasses`. */
  resetClassifier(numClasses: number): void {
    this.fc2 = this.replaceModule(
      "fc2",
      new Linear(128, numClasses, { device: this.fc1.weight.device }),
    );
  }
}

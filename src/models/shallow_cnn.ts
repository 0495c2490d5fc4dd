/**
 * The shallow CNN of the SGT paper's MNIST experiments: conv 32 3x3, relu, conv 64 3x3, relu,
 * maxpool 2, dropout .25, flatten, fc 128, relu, dropout .5, fc classes. Parameter names and
 * initialisation follow PyTorch (conv1.weight, ..., fc2.bias).
 *
 * @module
 */

import { tidy } from "../tensor/engine.ts";
import { maxPool2d } from "../tensor/functional.ts";
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
    // tidy frees the intermediates autograd does not keep (the pre-ReLU outputs, the pooled
    // map), as Python's locals going out of scope do in PyTorch
    return tidy(() => {
      let h = this.conv2.forward(this.conv1.forward(x).relu()).relu();
      h = this.#dropout1.forward(maxPool2d(h, 2)).flatten(1);
      h = this.#dropout2.forward(this.fc1.forward(h).relu());
      return this.fc2.forward(h);
    });
  }
  /** Replaces the classifier with a fresh one for `numClasses`. */
  resetClassifier(numClasses: number): void {
    this.fc2 = this.replaceModule(
      "fc2",
      new Linear(128, numClasses, { device: this.fc1.weight.device }),
    );
  }
}

/**
 * ResNet-18 with torchvision's layout, state-dict keys, shapes and initialisation (conv:
 * kaiming_normal fan_out/ReLU; BatchNorm: 1/0; fc: torch's Linear default), so torchvision
 * weights load as they are. The CIFAR stem option swaps the 7x7/2 conv and max pool for a
 * 3x3/1 conv, as is usual for 32x32 inputs.
 *
 * @module
 */

import { kaimingNormalFanOut } from "../nn/init.ts";
import type { InitOptions } from "../nn/init.ts";
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  type Conv2dLayerOptions,
  Linear,
  MaxPool2d,
} from "../nn/layers.ts";
import { Identity, Module, Sequential } from "../nn/module.ts";
import { noGrad } from "../tensor/autograd.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";

function conv(inC: number, outC: number, k: number, options: Conv2dLayerOptions): Conv2d {
  const c = new Conv2d(inC, outC, k, { ...options, bias: false });
  tidy(() => noGrad(() => c.weight.copy_(kaimingNormalFanOut(c.weight.shape, options))));
  return c;
}

/** torchvision's BasicBlock: conv-bn-relu-conv-bn plus the (downsampled) input, relu. */
export class BasicBlock extends Module {
  /** 3x3, stride s */
  readonly conv1: Conv2d;
  /** after conv1 */
  readonly bn1: BatchNorm2d;
  /** 3x3, stride 1 */
  readonly conv2: Conv2d;
  /** after conv2 */
  readonly bn2: BatchNorm2d;
  /** 1x1 conv + bn when the shape changes, else null */
  readonly downsample: Sequential | null;
  /** Creates the block. */
  constructor(inC: number, outC: number, stride: number, options: InitOptions = {}) {
    super();
    this.conv1 = this.registerModule(
      "conv1",
      conv(inC, outC, 3, { ...options, stride, padding: 1 }),
    );
    this.bn1 = this.registerModule("bn1", new BatchNorm2d(outC, options));
    this.conv2 = this.registerModule("conv2", conv(outC, outC, 3, { ...options, padding: 1 }));
    this.bn2 = this.registerModule("bn2", new BatchNorm2d(outC, options));
    this.downsample = stride !== 1 || inC !== outC
      ? this.registerModule(
        "downsample",
        new Sequential(conv(inC, outC, 1, { ...options, stride }), new BatchNorm2d(outC, options)),
      )
      : null;
  }
  /** relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)) */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h = this.bn2.forward(
        this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()),
      );
      const shortcut = this.downsample ? this.downsample.forward(x) : x;
      return h.add(shortcut).relu();
    });
  }
}

/** Options of ResNet-18. */
export interface ResNetOptions extends InitOptions {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Input channels (default 3). */
  inChannels?: number;
  /** 3x3/1 first conv and no max pool, for 32x32 inputs (default false). */
  cifarStem?: boolean;
}

/** ResNet-18 (torchvision.models.resnet18). */
export class ResNet18 extends Module {
  /** Stem conv. */
  readonly conv1: Conv2d;
  /** Stem BatchNorm. */
  readonly bn1: BatchNorm2d;
  readonly #maxpool: Module;
  /** The four stages of two BasicBlocks each. */
  readonly layers: Sequential[];
  readonly #avgpool = new AdaptiveAvgPool2d(1);
  /** Classifier. */
  fc: Linear;
  /** Creates the network with torchvision's initialisation. */
  constructor(options: ResNetOptions = {}) {
    super();
    const inC = options.inChannels ?? 3;
    const cifar = options.cifarStem ?? false;
    this.conv1 = this.registerModule(
      "conv1",
      cifar
        ? conv(inC, 64, 3, { ...options, stride: 1, padding: 1 })
        : conv(inC, 64, 7, { ...options, stride: 2, padding: 3 }),
    );
    this.bn1 = this.registerModule("bn1", new BatchNorm2d(64, options));
    this.#maxpool = this.registerModule(
      "maxpool",
      cifar ? new Identity() : new MaxPool2d(3, { stride: 2, padding: 1 }),
    );
    const widths = [64, 128, 256, 512];
    this.layers = widths.map((w, i) => {
      const inW = i === 0 ? 64 : widths[i - 1];
      const stride = i === 0 ? 1 : 2;
      return this.registerModule(
        `layer${i + 1}`,
        new Sequential(new BasicBlock(inW, w, stride, options), new BasicBlock(w, w, 1, options)),
      );
    });
    this.registerModule("avgpool", this.#avgpool);
    this.fc = this.registerModule("fc", new Linear(512, options.numClasses ?? 1000, options));
  }
  /** Logits (N, classes). */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = this.#maxpool.forward(this.bn1.forward(this.conv1.forward(x)).relu());
      for (const layer of this.layers) h = layer.forward(h);
      return this.fc.forward(this.#avgpool.forward(h).flatten(1));
    });
  }
  /** Replaces the classifier with a fresh one for `numClasses` (e.g. after loading ImageNet weights). */
  resetClassifier(numClasses: number): void {
    const device = this.fc.weight.device;
    this.fc = this.replaceModule("fc", new Linear(512, numClasses, { device }));
  }
}

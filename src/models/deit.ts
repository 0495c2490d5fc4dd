/**
 * DeiT-tiny / ViT-tiny with timm's structure and state-dict keys (patch_embed.proj, cls_token,
 * pos_embed, blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}, norm, head) and
 * timm's initialisation (trunc_normal std .02 for Linear weights and pos_embed, zero biases,
 * normal std 1e-6 for cls_token). imageSize and patchSize are options, so a 32x32 input with
 * 4x4 patches runs on a CPU.
 *
 * @module
 */

import { type InitOptions, truncNormal } from "../nn/init.ts";
import { TransformerBlock } from "../nn/attention.ts";
import { Conv2d, LayerNorm, Linear } from "../nn/layers.ts";
import { Module, Sequential } from "../nn/module.ts";
import type { Parameter } from "../nn/parameter.ts";
import { noGrad } from "../tensor/autograd.ts";
import { randn, zeros } from "../tensor/create.ts";
import { tidy } from "../tensor/engine.ts";
import { cat } from "../tensor/functional.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Options of the vision transformer. */
export interface DeiTOptions extends InitOptions {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Input channels (default 3). */
  inChannels?: number;
  /** Input height = width (default 224). */
  imageSize?: number;
  /** Patch size (default 16). */
  patchSize?: number;
  /** Embedding width (default 192, DeiT-tiny). */
  embedDim?: number;
  /** Blocks (default 12). */
  depth?: number;
  /** Attention heads (default 3). */
  numHeads?: number;
  /** MLP width / embedding width (default 4: 768 for tiny). */
  mlpRatio?: number;
}

/** A conv that cuts the image into patches and embeds each (timm's PatchEmbed). */
export class PatchEmbed extends Module {
  /** The patch projection: a conv with kernel = stride = patch size. */
  readonly proj: Conv2d;
  /** Creates the embedding. */
  constructor(inC: number, dim: number, patch: number, options: InitOptions) {
    super();
    this.proj = this.registerModule(
      "proj",
      new Conv2d(inC, dim, patch, { ...options, stride: patch }),
    );
  }
  /** (B, C, H, W) -> (B, N, D) */
  forward(x: Tensor): Tensor {
    return this.proj.forward(x).flatten(2).transpose(1, 2);
  }
}

/** DeiT-tiny (timm's deit_tiny_patch16_224 layout). */
export class DeiT extends Module {
  /** Patch embedding. */
  readonly patchEmbed: PatchEmbed;
  /** [1, 1, D] class token. */
  readonly clsToken: Parameter;
  /** [1, N + 1, D] position embedding. */
  readonly posEmbed: Parameter;
  /** The encoder blocks. */
  readonly blocks: Sequential;
  /** Final LayerNorm. */
  readonly norm: LayerNorm;
  /** Classifier on the class token. */
  head: Linear;
  readonly #dim: number;
  /** Creates the network with timm's initialisation. */
  constructor(options: DeiTOptions = {}) {
    super();
    const imageSize = options.imageSize ?? 224;
    const patch = options.patchSize ?? 16;
    if (imageSize % patch !== 0) {
      throw new RangeError(`imageSize ${imageSize} is not a multiple of patchSize ${patch}`);
    }
    const dim = options.embedDim ?? 192;
    this.#dim = dim;
    const tokens = (imageSize / patch) ** 2 + 1;
    const dev = { device: options.device };
    this.patchEmbed = this.registerModule(
      "patch_embed",
      new PatchEmbed(options.inChannels ?? 3, dim, patch, dev),
    );
    this.clsToken = this.registerParameter(
      "cls_token",
      tidy(() => randn([1, 1, dim], dev).mul(1e-6)),
    );
    this.posEmbed = this.registerParameter(
      "pos_embed",
      truncNormal([1, tokens, dim], { ...dev, std: 0.02 }),
    );
    const blocks = Array.from(
      { length: options.depth ?? 12 },
      () =>
        new TransformerBlock(dim, options.numHeads ?? 3, {
          ...dev,
          mlpRatio: options.mlpRatio ?? 4,
        }),
    );
    this.blocks = this.registerModule("blocks", new Sequential(...blocks));
    this.norm = this.registerModule("norm", new LayerNorm(dim, { ...dev, eps: 1e-6 }));
    this.head = this.registerModule("head", new Linear(dim, options.numClasses ?? 1000, dev));
    for (const b of blocks) {
      for (const l of [b.attn.qkv, b.attn.proj, b.mlp.fc1, b.mlp.fc2]) timmLinearInit(l);
    }
    timmLinearInit(this.head);
  }
  /** Logits (N, classes) from the class token. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const tokens = this.patchEmbed.forward(x);
      const cls = this.clsToken.expand(tokens.shape[0], -1, -1);
      let h = cat([cls, tokens], 1).add(this.posEmbed);
      h = this.norm.forward(this.blocks.forward(h));
      return this.head.forward(h.select(1, 0));
    });
  }
  /** Replaces the head with a fresh one for `numClasses`. */
  resetClassifier(numClasses: number): void {
    const head = new Linear(this.#dim, numClasses, { device: this.head.weight.device });
    timmLinearInit(head);
    this.head = this.replaceModule("head", head);
  }
}

function timmLinearInit(l: Linear): void {
  tidy(() =>
    noGrad(() => {
      l.weight.copy_(truncNormal(l.weight.shape, { device: l.weight.device, std: 0.02 }));
      if (l.bias) l.bias.copy_(zeros(l.bias.shape, { device: l.bias.device }));
    })
  );
}

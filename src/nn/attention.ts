/**
 * Transformer parts with timm's structure and parameter names (used by DeiT/ViT):
 * multi-head self-attention (`qkv`, `proj`), the MLP (`fc1`, `fc2`) and the pre-norm encoder
 * block (`norm1`, `attn`, `norm2`, `mlp`).
 *
 * @module
 */

import type { InitOptions } from "./init.ts";
import { Dropout, GELU, LayerNorm, Linear } from "./layers.ts";
import { Module } from "./module.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Multi-head self-attention over (B, N, C) tokens, as timm's Attention. */
export class MultiheadSelfAttention extends Module {
  /** Projection to queries, keys and values: C -> 3C. */
  readonly qkv: Linear;
  /** Output projection: C -> C. */
  readonly proj: Linear;
  readonly #attnDrop: Dropout;
  readonly #projDrop: Dropout;
  readonly #scale: number;
  /** Creates the block; dim must be divisible by numHeads. */
  constructor(
    readonly dim: number,
    readonly numHeads: number,
    options: InitOptions & { qkvBias?: boolean; attnDrop?: number; projDrop?: number } = {},
  ) {
    super();
    if (dim % numHeads !== 0) {
      throw new RangeError(`dim ${dim} is not divisible by ${numHeads} heads`);
    }
    this.#scale = (dim / numHeads) ** -0.5;
    this.qkv = this.registerModule(
      "qkv",
      new Linear(dim, dim * 3, { ...options, bias: options.qkvBias ?? true }),
    );
    this.#attnDrop = this.registerModule("attn_drop", new Dropout(options.attnDrop ?? 0));
    this.proj = this.registerModule("proj", new Linear(dim, dim, options));
    this.#projDrop = this.registerModule("proj_drop", new Dropout(options.projDrop ?? 0));
  }
  /** softmax(q k^T / sqrt(d)) v per head, then the output projection. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const [b, n, c] = x.shape;
      const h = this.numHeads;
      const qkv = this.qkv.forward(x).reshape(b, n, 3, h, c / h).permute(2, 0, 3, 1, 4);
      const [q, k, v] = [0, 1, 2].map((i) => qkv.select(0, i));
      const attn = this.#attnDrop.forward(
        q.matmul(k.transpose(-2, -1)).mul(this.#scale).softmax(-1),
      );
      const out = attn.matmul(v).transpose(1, 2).reshape(b, n, c);
      return this.#projDrop.forward(this.proj.forward(out));
    });
  }
}

/** Two-layer MLP with GELU, as timm's Mlp. */
export class Mlp extends Module {
  /** C -> hidden */
  readonly fc1: Linear;
  /** hidden -> C */
  readonly fc2: Linear;
  readonly #act = new GELU();
  readonly #drop: Dropout;
  /** Creates the MLP. */
  constructor(dim: number, hidden: number, options: InitOptions & { drop?: number } = {}) {
    super();
    this.fc1 = this.registerModule("fc1", new Linear(dim, hidden, options));
    this.registerModule("act", this.#act);
    this.#drop = this.registerModule("drop", new Dropout(options.drop ?? 0));
    this.fc2 = this.registerModule("fc2", new Linear(hidden, dim, options));
  }
  /** fc2(drop(gelu(fc1(x)))) */
  forward(x: Tensor): Tensor {
    return this.#drop.forward(
      this.fc2.forward(this.#drop.forward(this.#act.forward(this.fc1.forward(x)))),
    );
  }
}

/** Pre-norm transformer encoder block: x + attn(norm1(x)), then x + mlp(norm2(x)). */
export class TransformerBlock extends Module {
  /** LayerNorm before attention. */
  readonly norm1: LayerNorm;
  /** Self-attention. */
  readonly attn: MultiheadSelfAttention;
  /** LayerNorm before the MLP. */
  readonly norm2: LayerNorm;
  /** The MLP. */
  readonly mlp: Mlp;
  /** Creates the block (timm's ViT uses LayerNorm eps 1e-6). */
  constructor(
    dim: number,
    numHeads: number,
    options: InitOptions & { mlpRatio?: number; qkvBias?: boolean; eps?: number; drop?: number } =
      {},
  ) {
    super();
    const eps = options.eps ?? 1e-6;
    this.norm1 = this.registerModule("norm1", new LayerNorm(dim, { ...options, eps }));
    this.attn = this.registerModule("attn", new MultiheadSelfAttention(dim, numHeads, options));
    this.norm2 = this.registerModule("norm2", new LayerNorm(dim, { ...options, eps }));
    this.mlp = this.registerModule(
      "mlp",
      new Mlp(dim, Math.round(dim * (options.mlpRatio ?? 4)), options),
    );
  }
  /** Two residual sub-blocks. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h = x.add(this.attn.forward(this.norm1.forward(x)));
      return h.add(this.mlp.forward(this.norm2.forward(h)));
    });
  }
}

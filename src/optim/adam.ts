/**
 * Adam and AdamW with torch.optim's exact updates (bias correction, amsgrad, coupled or
 * decoupled weight decay), fused into one native call per step.
 *
 * @module
 */

import { num, Optimizer } from "./optimizer.ts";
import { adamStep } from "../tensor/fused.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Adam/AdamW hyper-parameters. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Coefficients of the running averages (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Weight decay (default 0 for Adam, 1e-2 for AdamW). */
  weightDecay?: number;
  /** Use the AMSGrad variant (default false). */
  amsgrad?: boolean;
  /** Maximise the objective (default false). */
  maximize?: boolean;
}

/** torch.optim.Adam (weight decay added to the gradient). */
export class Adam extends Optimizer {
  /** Learning rate. */
  lr: number;
  /** First-moment decay. */
  beta1: number;
  /** Second-moment decay. */
  beta2: number;
  /** Denominator term. */
  eps: number;
  /** Weight decay. */
  weightDecay: number;
  /** AMSGrad. */
  amsgrad: boolean;
  /** Maximise instead of minimise. */
  maximize: boolean;
  /** Whether weight decay is decoupled (AdamW). */
  protected readonly decoupled: boolean = false;
  /** Creates the optimizer over `params`. */
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}, defaultWeightDecay = 0) {
    super(params, ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]);
    this.lr = num(options.lr, 1e-3, "lr");
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    this.beta1 = num(b1, 0.9, "betas[0]");
    this.beta2 = num(b2, 0.999, "betas[1]");
    if (this.beta1 >= 1 || this.beta2 >= 1) {
      throw new RangeError(`betas must be in [0, 1), got [${b1}, ${b2}]`);
    }
    this.eps = num(options.eps, 1e-8, "eps");
    this.weightDecay = num(options.weightDecay, defaultWeightDecay, "weightDecay");
    this.amsgrad = options.amsgrad ?? false;
    this.maximize = options.maximize ?? false;
  }
  /** One Adam update. */
  step(): void {
    adamStep(
      this.buffers(),
      {
        lr: this.lr,
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.weightDecay,
        decoupled: this.decoupled,
        amsgrad: this.amsgrad,
        maximize: this.maximize,
      },
      `${this.constructor.name}.step`,
    );
    this.adoptSlots();
  }
  /** Hyper-parameters for the state dict. */
  protected options(): Record<string, number | boolean> {
    const { lr, beta1, beta2, eps, weightDecay, amsgrad, maximize } = this;
    return { lr, beta1, beta2, eps, weightDecay, amsgrad, maximize };
  }
  /** Applies saved hyper-parameters. */
  protected setOptions(o: Record<string, number | boolean>): void {
    Object.assign(this, o);
  }
}

/** torch.optim.AdamW (decoupled weight decay: p *= 1 - lr * weightDecay before the update). */
export class AdamW extends Adam {
  /** AdamW decouples weight decay from the gradient. */
  protected override readonly decoupled: boolean = true;
  /** Creates the optimizer over `params` (weightDecay defaults to 1e-2). */
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, options, 1e-2);
  }
}

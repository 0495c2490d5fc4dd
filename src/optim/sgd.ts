/**
 * Stochastic gradient descent with torch.optim.SGD's exact update (momentum, dampening,
 * Nesterov, weight decay, maximize), fused into one native call per step.
 *
 * @module
 */

import { num, Optimizer } from "./optimizer.ts";
import { sgdStep } from "../tensor/fused.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** SGD hyper-parameters (torch.optim.SGD's defaults except lr, which is required). */
export interface SGDOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Dampening for momentum (default 0). */
  dampening?: number;
  /** L2 penalty (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** Maximise the objective (default false). */
  maximize?: boolean;
}

/** torch.optim.SGD */
export class SGD extends Optimizer {
  /** Learning rate. */
  lr: number;
  /** Momentum factor. */
  momentum: number;
  /** Dampening. */
  dampening: number;
  /** L2 penalty. */
  weightDecay: number;
  /** Nesterov momentum. */
  nesterov: boolean;
  /** Maximise instead of minimise. */
  maximize: boolean;
  /** Creates the optimizer over `params`. */
  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super(params, ["momentum_buffer"]);
    this.lr = num(options.lr, NaN, "lr");
    this.momentum = num(options.momentum, 0, "momentum");
    this.dampening = num(options.dampening, 0, "dampening");
    this.weightDecay = num(options.weightDecay, 0, "weightDecay");
    this.nesterov = options.nesterov ?? false;
    this.maximize = options.maximize ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError("Nesterov momentum requires a momentum and zero dampening");
    }
  }
  /** p -= lr * (momentum-smoothed, weight-decayed) grad */
  step(): void {
    sgdStep(this.buffers(), this);
    this.adoptSlots();
  }
  /** Hyper-parameters for the state dict. */
  protected options(): Record<string, number | boolean> {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = this;
    return { lr, momentum, dampening, weightDecay, nesterov, maximize };
  }
  /** Applies saved hyper-parameters. */
  protected setOptions(o: Record<string, number | boolean>): void {
    Object.assign(this, o);
  }
}

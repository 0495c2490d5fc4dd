/**
 * Adadelta with torch.optim.Adadelta's exact update, fused into one native call per step.
 *
 * @module
 */

import { num, Optimizer } from "./optimizer.ts";
import { adadeltaStep } from "../tensor/fused.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Adadelta hyper-parameters (torch's defaults). */
export interface AdadeltaOptions {
  /** Learning rate (default 1.0). */
  lr?: number;
  /** Decay of the running averages (default 0.9). */
  rho?: number;
  /** Added for numerical stability (default 1e-6). */
  eps?: number;
  /** L2 penalty (default 0). */
  weightDecay?: number;
  /** Maximise the objective (default false). */
  maximize?: boolean;
}

/** torch.optim.Adadelta */
export class Adadelta extends Optimizer {
  /** Learning rate. */
  lr: number;
  /** Running-average decay. */
  rho: number;
  /** Stability term. */
  eps: number;
  /** L2 penalty. */
  weightDecay: number;
  /** Maximise instead of minimise. */
  maximize: boolean;
  /** Creates the optimizer over `params`. */
  constructor(params: Iterable<Tensor>, options: AdadeltaOptions = {}) {
    super(params, ["square_avg", "acc_delta"]);
    this.lr = num(options.lr, 1.0, "lr");
    this.rho = num(options.rho, 0.9, "rho");
    if (this.rho > 1) throw new RangeError(`rho must be in [0, 1], got ${this.rho}`);
    this.eps = num(options.eps, 1e-6, "eps");
    this.weightDecay = num(options.weightDecay, 0, "weightDecay");
    this.maximize = options.maximize ?? false;
  }
  /** One Adadelta update. */
  step(): void {
    adadeltaStep(this.buffers(), this);
    this.adoptSlots();
  }
  /** Hyper-parameters for the state dict. */
  protected options(): Record<string, number | boolean> {
    const { lr, rho, eps, weightDecay, maximize } = this;
    return { lr, rho, eps, weightDecay, maximize };
  }
  /** Applies saved hyper-parameters. */
  protected setOptions(o: Record<string, number | boolean>): void {
    Object.assign(this, o);
  }
}

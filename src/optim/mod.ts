/**
 * Optimizers with torch.optim's exact update rules, learning-rate schedules and gradient
 * clipping.
 *
 * @module
 */

export { Optimizer, type OptimizerState } from "./optimizer.ts";
export { SGD, type SGDOptions } from "./sgd.ts";
export { Adadelta, type AdadeltaOptions } from "./adadelta.ts";
export { Adam, type AdamOptions, AdamW } from "./adam.ts";
export { CosineAnnealingLR, EpochLRScheduler, type LRScheduler, StepLR } from "./lr_scheduler.ts";
export { clipGradNorm } from "./clip.ts";
export { GradScaler, type GradScalerOptions, type GradScalerState } from "./grad_scaler.ts";

/**
 * One optimisation step per training mode. The masked step is SGT's: saliency of the true
 * label (eval mode), mask the top or bottom k of each sample, then
 * CE(f(X), y) + lambda * KL(softmax f(X) || softmax f(X~)) with gradients through both
 * branches. It costs about 3 forward and 3 backward passes against 1 + 1 for a plain step.
 *
 * @module
 */

import type { Yielder } from "../util/event_loop.ts";
import { maskBySaliency, type Masked, type MaskFill } from "../masking/mask.ts";
import type { Module } from "../nn/module.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import type { Attribution } from "../saliency/common.ts";
import { pixelSaliency } from "../saliency/pixel_map.ts";
import { noGrad } from "../tensor/autograd.ts";
import { tidy } from "../tensor/engine.ts";
import { crossEntropy, klDiv, stack } from "../tensor/functional.ts";
import { tensor, zeros } from "../tensor/create.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { FP32, type StepPrecision } from "./precision.ts";
import type { EpochPlan } from "./schedule.ts";
import { SETTINGS } from "./config_fields.ts";

/** The settings that turn attributions into a masked batch (see {@link maskedInputs}). */
export interface MaskSettings {
  /** Channel reduction of the attributions. */
  reduction: "mean" | "sum" | "max";
  /**
   * What is ranked (default "abs"): the reduction of |attributions|, or of the signed
   * attributions ("signed": top = most positive, bottom = most negative).
   */
  saliencySign?: "abs" | "signed";
  /**
   * Fill of masked pixels; "random-channel": uniform in each channel's own [min, max] of the
   * sample (SGT's CIFAR code), where "random" draws from the sample's [min, max] over all
   * channels.
   */
  fill: MaskFill | "random-channel";
  /** Pixels by which a regularize (top-k) mask grows before the fill (default 0). */
  maskDilate?: number;
}

/**
 * How a data-parallel step agrees with the other processes (ranks), each holding its own equal
 * share of the global batch: after backward, the gradients are averaged over the ranks, so every
 * rank applies the update of the whole batch; the step's statistics are summed.
 */
export interface StepSync {
  /** Processes taking part. */
  readonly worldSize: number;
  /** Averages `grads` over the ranks, in place. */
  averageGradients(grads: Tensor[]): void;
  /** Sums `t` over the ranks, in place. */
  sum(t: Tensor): void;
}

/** What a step needs besides the batch. */
export interface StepContext extends MaskSettings {
  /** The model being trained. */
  model: Module;
  /** Its optimizer. */
  optimizer: Optimizer;
  /** KL weight. */
  lambda: number;
  /**
   * Saliency method used to rank pixels (with saliencySign "signed", one that keeps the sign:
   * the trainer builds Saliency and SmoothGrad with abs false).
   */
  saliency: Attribution;
  /** Data-parallel training: the other ranks to agree with (absent: one process). */
  sync?: StepSync;
  /** Precision and layout of the forward passes (absent: float32, plain layout). */
  precision?: StepPrecision;
}

/**
 * M(I, X) of a masked epoch: x (B, C, H, W) with the plan's k of pixels filled, ranked by the
 * attributions' pixel map (the channel reduction of |attributions|, or of the signed ones):
 * the top k in regularize epochs (grown by `maskDilate` pixels), the bottom k otherwise.
 */
export function maskedInputs(
  x: Tensor,
  attributions: Tensor,
  plan: EpochPlan,
  settings: MaskSettings,
): Masked {
  return tidy(() => {
    const map = pixelSaliency(attributions, {
      reduction: settings.reduction,
      abs: settings.saliencySign !== "signed",
    });
    const top = plan.mode === "regularize";
    const fill = settings.fill;
    return maskBySaliency(x, map, top ? "top" : "bottom", {
      fraction: plan.k ?? 0,
      fill: fill === "random-channel" ? "random" : fill,
      perChannel: fill === "random-channel",
      // only HLGM's regularize mask takes the "surrounding area"; bottom-k masks never grow
      dilate: top ? settings.maskDilate ?? SETTINGS.maskDilate.absentMeans : 0,
      // no NaN check (a sync per batch): NaN saliency comes from NaN weights or inputs, which
      // make the loss NaN, and a NaN loss stops the run
      checkNaN: false,
    });
  });
}

/** Host-side results of one step. */
export interface StepResult {
  /** Total loss. */
  loss: number;
  /** Cross-entropy part. */
  ce: number;
  /** KL part before lambda (0 for plain steps). */
  kl: number;
  /** Correct predictions on the unmasked batch. */
  correct: number;
  /** Mean cross-entropy on the masked batch (NaN for plain steps). */
  maskedCe: number;
  /** Correct predictions on the masked batch (0 for plain steps). */
  maskedCorrect: number;
}

/** Trains on one batch according to the epoch's plan. */
export function trainStep(ctx: StepContext, x: Tensor, y: Tensor, plan: EpochPlan): StepResult {
  return tidy(() => {
    const { model, optimizer } = ctx;
    const precision = ctx.precision ?? FP32;
    const { loss, ce, kl, logits, logitsMasked } = precision.forward(() =>
      stepLosses(ctx, precision.input(x), y, plan)
    );
    optimizer.zeroGrad();
    (precision.scaler ? precision.scaler.scaleLoss(loss) : loss).backward();
    // one host copy per step (a device sync on CUDA): loss, its parts, the hit counts, and how
    // the model does on the masked inputs it is trained to agree on (the paper's Fig. 2 dip)
    const none = () => zeros([], { device: loss.device });
    let statsTensor = noGrad(() =>
      stack([
        loss.detach(),
        ce.detach(),
        kl ? kl.detach() : none(),
        logits.argmax(1).eq(y).sum().to("float32"),
        logitsMasked ? crossEntropy(logitsMasked.detach(), y) : none(),
        logitsMasked ? logitsMasked.argmax(1).eq(y).sum().to("float32") : none(),
      ]).to("float64")
    );
    if (ctx.sync) statsTensor = syncStep(ctx.sync, model, statsTensor);
    const stats = statsTensor.data() as Float64Array;
    const [lossValue, ceValue, klValue, correct, maskedCe, maskedCorrect] = stats;
    // a NaN/Inf loss must not reach the weights. Without a scaler the caller stops the run; with
    // fp16's, as in torch's loop, the scaler skips any step whose gradients overflowed (a NaN/Inf
    // loss gives such gradients) and lowers its scale, and the caller goes on
    if (precision.scaler) {
      if (Number.isFinite(lossValue)) precision.scaler.step(optimizer);
      else precision.scaler.skip(); // even if the gradients came out finite
      precision.scaler.update();
    } else if (Number.isFinite(lossValue)) {
      optimizer.step();
    }
    return {
      loss: lossValue,
      ce: ceValue,
      kl: klValue,
      correct: Number.isFinite(lossValue) ? correct : 0,
      maskedCe: logitsMasked ? maskedCe : NaN,
      maskedCorrect: logitsMasked && Number.isFinite(lossValue) ? maskedCorrect : 0,
    };
  });
}

/** The forward half of a step: the losses and the logits they came from. */
interface StepLosses {
  loss: Tensor;
  ce: Tensor;
  kl?: Tensor;
  logits: Tensor;
  logitsMasked?: Tensor;
}

/** The masked inputs (masked epochs), the forward passes and the loss of one batch. */
function stepLosses(ctx: StepContext, x: Tensor, y: Tensor, plan: EpochPlan): StepLosses {
  const { model } = ctx;
  let masked: Tensor | undefined;
  if (plan.mode !== "plain") {
    masked = maskedInputs(x, ctx.saliency.attribute(x, { target: y }), plan, ctx).masked;
  }
  model.train();
  const logits = model.forward(x);
  const ce = crossEntropy(logits, y);
  if (!masked) return { loss: ce, ce, logits };
  const logitsMasked = model.forward(masked);
  // KL(p || q) from log p (logTarget), not p: the same value, but where a confident model's
  // softmax underflows to p = 0 the gradient through p, (log p + 1 - log q) p', is 0 instead of
  // -inf * 0 = NaN (which reached the weights with a finite loss and stopped runs one batch on)
  const kl = klDiv(logitsMasked.logSoftmax(1), logits.logSoftmax(1), {
    reduction: "batchmean",
    logTarget: true,
  });
  return { loss: ce.add(kl.mul(ctx.lambda)), ce, kl, logits, logitsMasked };
}

/**
 * Averages the gradients over the ranks (a parameter without one gets zeros, so every rank
 * reduces the same list) and turns the step's statistics into the whole batch's: the means
 * (loss, CE, KL, masked CE; equal shares) averaged, the counts summed. A NaN on any rank
 * reaches every rank, so all of them skip the update together.
 */
function syncStep(sync: StepSync, model: Module, stats: Tensor): Tensor {
  const grads = model.parameters().map((p) => {
    const g = p.grad;
    if (g) return g;
    p.grad = zeros(p.shape, { dtype: p.dtype, device: p.device });
    return p.grad!;
  });
  sync.averageGradients(grads);
  sync.sum(stats);
  const n = sync.worldSize;
  return stats.div(tensor([n, n, n, 1, n, 1], { dtype: "float64", device: stats.device }));
}

/** A batch to evaluate on: inputs, labels, and boxes that are only disposed. */
export interface EvalBatch {
  /** Inputs. */
  x: Tensor;
  /** Labels. */
  y: Tensor;
  /** Boxes, if the data has them. */
  boxes?: Tensor;
}

/** Summed cross-entropy and correct predictions of one batch (disposed after). */
function scoreBatch(model: Module, b: EvalBatch, precision: StepPrecision): [number, number] {
  const r = tidy(() =>
    noGrad(() => {
      // the loss inside the scope too: autocast computes cross-entropy in float32, as in training
      const [loss, logits] = precision.forward(() => {
        const logits = model.forward(precision.input(b.x));
        return [crossEntropy(logits, b.y, { reduction: "sum" }), logits];
      });
      return [loss.item(), logits.argmax(1).eq(b.y).sum().item()] as [number, number];
    })
  );
  b.x.dispose();
  b.y.dispose();
  b.boxes?.dispose();
  return r;
}

/** Mean cross-entropy, accuracy and count of what {@link scoring} has seen. */
type EvalResult = { loss: number; acc: number; n: number };

/**
 * Sums evaluation totals over the ranks of data-parallel training (each scored its own
 * disjoint shard): [loss sum, correct, count] in, the same summed over every rank out.
 */
export type EvalSum = (totals: [number, number, number]) => [number, number, number];

/** Scores the batches one by one (yielding after each); returns the totals as means. */
function* scoring(
  model: Module,
  batches: Iterable<EvalBatch>,
  sum?: EvalSum,
  precision: StepPrecision = FP32,
): Generator<void, EvalResult> {
  model.eval();
  let lossSum = 0, correct = 0, n = 0;
  for (const b of batches) {
    n += b.y.shape[0];
    const [l, c] = scoreBatch(model, b, precision);
    lossSum += l;
    correct += c;
    yield;
  }
  if (sum) [lossSum, correct, n] = sum([lossSum, correct, n]);
  return { loss: n ? lossSum / n : NaN, acc: n ? correct / n : NaN, n };
}

/**
 * Mean cross-entropy and accuracy of a model in eval mode over batches; with `precision`, the
 * forward passes in that precision and layout.
 */
export function evaluate(
  model: Module,
  batches: Iterable<EvalBatch>,
  precision?: StepPrecision,
): { loss: number; acc: number; n: number } {
  const steps = scoring(model, batches, undefined, precision);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * {@link evaluate}, giving the event loop a turn between batches through `yielder`; with
 * `sum`, the totals of every rank's shard; with `precision`, the forward passes in the run's
 * precision and layout.
 */
export async function evaluateAsync(
  model: Module,
  batches: Iterable<EvalBatch>,
  yielder: Yielder,
  sum?: EvalSum,
  precision?: StepPrecision,
): Promise<{ loss: number; acc: number; n: number }> {
  const steps = scoring(model, batches, sum, precision);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await yielder.tick();
  }
}

/**
 * One training job on the terminal (`train`, `demo`): a line saying what the run will do (the
 * device used, the data, the schedule), an estimate of its length after the first batches, a
 * progress line (a TTY) with elapsed time and the epoch's and run's ETA that fits the
 * terminal, plain per-epoch lines, and Ctrl-C handling (cli/interrupt.ts).
 *
 * @module
 */

import { withInterrupt } from "./interrupt.ts";
import { FLAG_VOCABULARY } from "./flag_vocabulary.ts";
import { formatDuration, ProgressLine } from "./progress.ts";
import { MASKED_EPOCH_COST, RunClock, SKIPPED_BATCHES } from "./run_clock.ts";
import { scheduleOf, SETTINGS, type TrainConfig } from "../src/train/config.ts";
import { presetWeightsWarning } from "../src/train/presets.ts";
import { runNormalization } from "../src/train/normalization.ts";
import type { EpochMetrics } from "../src/run_folder/mod.ts";
import { previewSchedule } from "../src/train/schedule.ts";
import type { DistributedTraining } from "../src/train/distributed.ts";
import {
  type RunStart,
  trainPlan,
  type TrainProgress,
  type TrainResult,
} from "../src/train/trainer.ts";
import type { ForkPlan, ResumePlan, StartPlan } from "../src/train/run_plan.ts";

/** A percentage with 2 decimals and a "%" sign, or a blank for null. */
export const pct = (v: number | null): string => v === null ? "   -  " : `${(100 * v).toFixed(2)}%`;

/** One plain line per epoch. */
export function epochLine(m: EpochMetrics, epochs: number): string {
  const k = m.k === null ? "" : ` k=${m.k.toFixed(2)}`;
  return `epoch ${
    String(m.epoch).padStart(String(epochs).length)
  }/${epochs} ${m.phase}/${m.mode}${k}: ` +
    `loss ${m.train_loss.toFixed(4)} acc ${pct(m.train_acc)} | val ${pct(m.val_acc)} | ` +
    `test ${pct(m.test_acc)} | ${m.seconds.toFixed(1)} s, ${m.images_per_s.toFixed(0)} img/s`;
}

const PLURALS: Record<string, string> = { batch: "batches" };
const plural = (n: number, word: string) => `${n} ${n === 1 ? word : PLURALS[word] ?? `${word}s`}`;

/** The lines printed before the first batch: what, on what, how, where. */
export function startLines(config: TrainConfig, out: string, s: RunStart): string[] {
  const [c, h, w] = s.shape;
  const epochs = s.firstEpoch === 1
    ? plural(s.epochs, "epoch")
    : s.firstEpoch === s.epochs
    ? `epoch ${s.epochs} of ${s.epochs}`
    : `epochs ${s.firstEpoch}-${s.epochs} of ${s.epochs}`;
  // a fork's first epochs are new training (the line before says what it forked)
  const doing = s.firstEpoch > 1 && !s.forkedFrom ? "resuming" : "training";
  return [
    `${doing} ${config.method} on ${config.model} / ` +
    `${config.dataset}: ${s.images.train} train, ${s.images.val} val, ${s.images.test} test ` +
    `images (${c}x${h}x${w}), ${plural(s.batches, "batch")} of ${config.batchSize}; ${epochs} ` +
    `on ${s.device} (${s.ranks > 1 ? `${s.ranks} ranks x ` : ""}${
      plural(s.threads, "thread")
    }), ${config.optimizer} lr ${config.lr}, ` +
    `seed ${config.seed} -> ${out}`,
    `schedule: ${s.schedule}`,
    ...(config.precision && config.precision !== "fp32" || config.channelsLast
      ? [precisionLine(config)]
      : []),
    ...(s.pretrained ? [s.pretrained.note] : []),
    ...(runNormalization(config) === "imagenet"
      ? ["inputs normalised with ImageNet's mean and std (--normalization imagenet)"]
      : []),
  ];
}

/** The run's precision and layout in words, when not plain float32. */
function precisionLine(config: TrainConfig): string {
  const p = config.precision ?? SETTINGS.precision.absentMeans;
  const what = p === "fp32"
    ? "float32"
    : `${p}: forward passes under autocast to ${
      p === "bf16-mixed" ? "bfloat16" : "float16 with loss scaling"
    }, float32 weights`;
  return `precision ${what}${config.channelsLast ? "; channels-last layout" : ""}`;
}

/** The progress line's fields, most important first to stay. */
function progressFields(p: TrainProgress, clock: RunClock) {
  const k = p.plan.k === null ? "" : ` k=${p.plan.k.toFixed(2)}`;
  const epochLeft = clock.epochLeft(p.batch);
  const runLeft = clock.runLeft(p.epoch, p.batch);
  return [
    { text: `epoch ${p.epoch}/${p.epochs}`, drop: 0 },
    { text: `${p.plan.mode}${k}`, drop: 6 },
    { text: `batch ${p.batch}/${p.batches}`, drop: 2 },
    { text: `loss ${p.loss.toFixed(4)}`, drop: 5 },
    { text: `acc ${(100 * p.acc).toFixed(1)}%`, drop: 4 },
    { text: `${p.imagesPerSecond.toFixed(0)} img/s`, drop: 8 },
    { text: `elapsed ${formatDuration(clock.elapsed())}`, drop: 7 },
    { text: `epoch ETA ${epochLeft === null ? "?" : formatDuration(epochLeft)}`, drop: 3 },
    { text: `run ETA ${runLeft === null ? "?" : formatDuration(runLeft)}`, drop: 1 },
  ];
}

/** How {@link runTraining} runs its job. */
export interface RunTrainingOptions {
  /** No epoch lines (the progress line and the estimate stay; default false). */
  quiet?: boolean;
  /** This process's rank of data-parallel training, when there are several. */
  distributed?: DistributedTraining;
}

/** Carries out one training plan (a run started, resumed or forked); returns the engine's result. */
export async function runTraining(
  plan: StartPlan | ResumePlan | ForkPlan,
  options: RunTrainingOptions = {},
): Promise<TrainResult> {
  const { quiet = false, distributed } = options;
  const { config, runDir: out } = plan;
  if (distributed && distributed.rank !== 0) {
    // the other ranks of data-parallel training: rank 0 prints for all; they print errors only
    return await withInterrupt(
      new ProgressLine(),
      ({ stopping }) =>
        trainPlan(plan, { distributed, shouldStop: stopping, vocabulary: FLAG_VOCABULARY }),
      { quiet: true },
    );
  }
  if (plan.action === "start") {
    // a preset the paper ran from ImageNet weights, started from random ones: one line
    const warning = presetWeightsWarning(config, FLAG_VOCABULARY);
    if (warning) console.error(`warning: ${warning}`);
  }
  const progress = new ProgressLine();
  const plans = previewSchedule(scheduleOf(config), config.epochs);
  let clock: RunClock | null = null;
  let estimated = false;
  // one estimate of the whole run, once the warm batch rate is steady (or after the first epoch)
  const estimate = (c: RunClock, left: number | null, from: string) => {
    estimated = true;
    const masked = c.maskedEpochs();
    const first = c.firstMaskedEpoch();
    progress.done();
    console.log(
      `estimate: about ${left === null ? "?" : formatDuration(c.elapsed() + left)} in all ` +
        `(from ${from}${
          masked
            ? `; ${plural(masked, "masked epoch")} counted at ${MASKED_EPOCH_COST}x a plain one`
            : ""
        }${
          masked && config.method === "hlgm" && config.switchEpoch === undefined &&
            first !== null && first > c.firstEpoch()
            ? `; the switch taken at its earliest, after epoch ${first - 1}`
            : ""
        })`,
    );
  };
  return await withInterrupt(progress, ({ stopping }) =>
    trainPlan(plan, {
      distributed,
      shouldStop: stopping,
      vocabulary: FLAG_VOCABULARY,
      onStart: (s) => {
        clock = new RunClock(s, plans);
        for (const line of startLines(config, out, s)) console.log(line);
        if (s.warning) console.error(`warning: ${s.warning}`);
      },
      onBatch: (p) => {
        if (!clock) return;
        clock.batch(p.batch, p.plan);
        const steady = clock.steadyBatches();
        if (!estimated && steady !== null) {
          estimate(
            clock,
            clock.runLeft(p.epoch, p.batch),
            `${plural(steady, "batch")} after the first ${SKIPPED_BATCHES}`,
          );
        }
        progress.update(progressFields(p, clock), p.batch / p.batches);
      },
      onEpoch: (m) => {
        clock?.epochDone(m);
        progress.done();
        const left = clock?.secondsAfter(m.epoch) ?? null;
        if (clock && !estimated) estimate(clock, left, `epoch ${m.epoch}'s time`);
        if (quiet) return;
        // the time left, refined by every epoch timed
        const more = left !== null && left > 0 ? ` | about ${formatDuration(left)} left` : "";
        console.log(epochLine(m, config.epochs) + more);
      },
    }));
}

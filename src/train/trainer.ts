/**
 * The training engine for baseline, SGT and HLGM. Reads top to bottom: resolve the config,
 * load the data, build model and optimizer (or restore them from the last checkpoint), then
 * for each epoch ask the schedule what to do, train, evaluate, log one metrics line and write
 * a checkpoint.
 *
 * @module
 */

import { assertFiniteWeights } from "../checkpoint/finite.ts";
import { DataParallel, type DistributedTraining } from "./distributed.ts";
import { DataLoader } from "../data/loader.ts";
import type { Model } from "../models/factory.ts";
import { Adadelta } from "../optim/adadelta.ts";
import { Adam, AdamW } from "../optim/adam.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import { SGD } from "../optim/sgd.ts";
import type { Attribution } from "../saliency/common.ts";
import { attributionFn } from "../saliency/registry.ts";
import { getRngState, manualSeed, setRngState } from "../tensor/create.ts";
import { cudaDeviceCount, type Device, deviceCode, deviceName } from "../tensor/device.ts";
import { getNumThreads, info } from "../tensor/runtime.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { releaseCachedMemory } from "../tensor/engine.ts";
import { configProblems, scheduleOf, type TrainConfig } from "./config.ts";
import {
  type BestEpoch,
  type EpochMetrics,
  RunDir,
  type RunInfo,
  type TrainerState,
} from "./run_dir.ts";
import {
  advance,
  describeSchedule,
  type EpochPlan,
  initialState,
  planEpoch,
  type ScheduleState,
  unreachableSwitch,
} from "./schedule.ts";
import { precisionWarning, stepPrecision } from "./precision.ts";
import { evaluateAsync, trainStep } from "./steps.ts";
import { EventWriter } from "./tensorboard.ts";
import { SettingError, words } from "../util/vocabulary.ts";
import { Yielder } from "../util/event_loop.ts";
import { lockRunFolder } from "./run_lock.ts";
import {
  createRunModel,
  evalTransforms,
  loadRunPretrained,
  loadSplits,
  type PretrainedLoad,
  trainTransforms,
} from "./setup.ts";

export { loadSplits };

/** Progress within an epoch, for progress bars. */
export interface TrainProgress {
  /** 1-based epoch. */
  epoch: number;
  /** Total epochs. */
  epochs: number;
  /** The epoch's plan. */
  plan: EpochPlan;
  /** Batches done. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Mean loss so far. */
  loss: number;
  /** Accuracy so far. */
  acc: number;
  /** Images per second so far. */
  imagesPerSecond: number;
}

/** What a run is about to do, reported once its data and model are ready. */
export interface RunStart {
  /** The device actually used ("cpu", "cuda:0"). */
  device: string;
  /** libtorch's intra-op threads (of this process). */
  threads: number;
  /** Processes training together (1 unless data-parallel). */
  ranks: number;
  /** Images per split. */
  images: { train: number; val: number; test: number };
  /** Input shape the model sees (C, H, W). */
  shape: [number, number, number];
  /** Training batches per epoch. */
  batches: number;
  /** The epoch this process starts with (after a resume, the one after the checkpoint). */
  firstEpoch: number;
  /** The last epoch. */
  epochs: number;
  /** The schedule in words (describeSchedule). */
  schedule: string;
  /**
   * Why an hlgm run can never reach its masked phase (unreachableSwitch), or why its precision
   * is slow here (precisionWarning); null when neither.
   */
  warning: string | null;
  /**
   * What loading the config's `pretrained` weights did, when this process loaded them (a new
   * run); null otherwise (none named, or a resumed run, which continues from its checkpoint).
   */
  pretrained: PretrainedLoad | null;
}

/** Callbacks and controls of a run. */
export interface TrainHooks {
  /** Once, before the first batch. */
  onStart?: (s: RunStart) => void;
  /** After every batch. */
  onBatch?: (p: TrainProgress) => void;
  /** After every epoch (the line just written to metrics.jsonl). */
  onEpoch?: (m: EpochMetrics) => void;
  /** Checked between batches: when it returns true the run stops, keeping the last checkpoint. */
  shouldStop?: () => boolean;
}

/** How a training call ended: all epochs done, stopped when asked, or the loss went NaN/Inf. */
export type TrainStatus = "completed" | "interrupted" | "diverged";

/**
 * fp16-mixed: a NaN/Inf loss skips the step while the loss scale stays at or above this (float16's
 * least subnormal); once the halvings take it lower, no scale rescues the run and it stops.
 */
const FP16_LEAST_SCALE = 2 ** -24;

/** How a run ended. */
export interface TrainResult {
  /** The run folder. */
  runDir: string;
  /** All epochs' metrics (including those before a resume). */
  metrics: EpochMetrics[];
  /** "completed", "interrupted" or "diverged" (NaN/Inf loss). */
  status: TrainStatus;
  /** A message for the user when not completed. */
  message?: string;
}

function makeOptimizer(c: TrainConfig, params: Tensor[]): Optimizer {
  switch (c.optimizer) {
    case "sgd":
      return new SGD(params, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
    case "adadelta":
      return new Adadelta(params, { lr: c.lr, weightDecay: c.weightDecay });
    case "adam":
      return new Adam(params, { lr: c.lr, weightDecay: c.weightDecay });
    case "adamw":
      return new AdamW(params, { lr: c.lr, weightDecay: c.weightDecay || 1e-2 });
  }
}

/**
 * The saliency that picks the pixels to mask, from the attribution registry. Masking runs it on
 * every batch, so integrated gradients and SmoothGrad take fewer steps and samples than the
 * registry's defaults (8 and 4 instead of 50 and 10).
 */
function makeSaliency(c: TrainConfig, model: Model): Attribution {
  const attribute = attributionFn(model, c.model, {
    method: c.saliency,
    // --saliency-sign signed: Saliency and SmoothGrad keep the gradient's sign (the others
    // are signed already); the step's channel reduction then skips |.| too
    abs: c.saliencySign === "signed" ? false : undefined,
    nSteps: 8,
    nSamples: 4,
    internalBatchSize: (b) => b * 4,
  });
  return { attribute: (x, o) => attribute(x, o.target) };
}

/** The seed of rank `rank` (> 0) when it starts at `epoch`: distinct per rank, seed and epoch. */
function rankSeed(seed: number, rank: number, epoch: number): number {
  return ((seed * 1000003) ^ (rank * 7919 + epoch * 104729)) >>> 0;
}

/** What is kept after a run diverged in `epoch`, and what to lower. */
function divergedAdvice(epoch: number, lower: string): string {
  return epoch > 1
    ? `The last good checkpoint (epoch ${epoch - 1}) is kept; try a lower ${lower}`
    : `no checkpoint was written yet; try a lower ${lower}`;
}

/** Where an interrupted run stands and what to do next. */
function interruptedMessage(runDir: string, metrics: EpochMetrics[], where: string): string {
  const last = metrics.at(-1);
  return last
    ? `interrupted ${where}; the checkpoint of epoch ${last.epoch} is kept in ${runDir}; ` +
      `continue with ${words().resume(runDir)}`
    : `interrupted ${where}, before the first checkpoint; nothing to resume in ${runDir} ` +
      `(start again with the same settings)`;
}

/** How {@link train} runs: hooks, and what to do with the folder. */
export interface TrainOptions extends TrainHooks {
  /** Continue the run in `runDir` from its last checkpoint, with its saved settings. */
  resume?: boolean;
  /** With `resume`: run to this many epochs instead of the saved count (extends a run). */
  epochs?: number;
  /** Without `resume`: start over in a folder that holds results of a run, removing them. */
  overwrite?: boolean;
  /**
   * Data-parallel training: this process is one rank of several (`distributedEnv()`); each
   * trains on its shard of every batch (`batchSize` stays the global batch), gradients are
   * averaged, and only rank 0 writes the run folder.
   */
  distributed?: DistributedTraining;
}

/**
 * Trains according to `config` into `runDir`, or continues that run when `resume` is set (from
 * its last checkpoint; see {@link RunDir.lastCheckpoint} for an unreadable last.json). A folder
 * that already holds results of a run is refused unless `overwrite` is set, which removes them
 * once the new run's data and model are ready. The folder is locked while it trains: a second
 * writer (another process training, resuming, comparing or sweeping in it) gets
 * {@link RunFolderBusyError} at once.
 */
export async function train(
  config: TrainConfig,
  runDir: string,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const dir = new RunDir(runDir);
  const dist = options.distributed;
  const writer = (dist?.rank ?? 0) === 0; // the one rank that writes the run folder
  if (options.resume && !dir.exists()) {
    throw new Error(`${runDir}: not a run folder (no config.json) to resume`);
  }
  // one writer per folder: held until this call returns (a launcher's ranks share its lock)
  const lock = writer ? lockRunFolder(runDir, "train") : null;
  try {
    return await trainLocked(config, dir, runDir, options);
  } finally {
    lock?.release();
  }
}

async function trainLocked(
  config: TrainConfig,
  dir: RunDir,
  runDir: string,
  options: TrainOptions,
): Promise<TrainResult> {
  const dist = options.distributed;
  const writer = (dist?.rank ?? 0) === 0;
  if (options.resume && writer) dir.removeCutWrites(); // left by a kill during a write
  const lastCk = options.resume ? dir.lastCheckpoint() : null;
  const last = lastCk?.state ?? null;
  const saved = options.resume ? dir.readInfo() : null;
  let c = saved ? saved.config : config;
  if (saved && options.epochs !== undefined && options.epochs !== c.epochs) {
    // extending (or shortening what is left of) a run: its record says how long it now is
    const done = last?.epoch ?? 0;
    if (!Number.isInteger(options.epochs) || options.epochs <= done) {
      throw new SettingError(
        ["epochs"],
        `${runDir} has ${done} epochs done; ${
          words().setting("epochs")
        } must be more than that, got ${options.epochs}`,
      );
    }
    c = { ...c, epochs: options.epochs };
    if (writer) dir.writeInfo({ ...saved, config: c });
  }
  const problems = configProblems(c);
  if (problems.length) throw new Error(`invalid configuration: ${problems.join("; ")}`);
  if (!last && !options.overwrite && dir.hasResults()) {
    throw new Error(
      options.resume
        ? `${runDir} holds results of a run but no checkpoint to continue from ` +
          `(checkpoints/last.json is missing); add ${words().overwrite()} to train over it`
        : `${runDir} already holds a run; continue it with ${words().resume(runDir)}, ` +
          `choose ${words().anotherFolder()}, or add ${words().overwrite()} to train over it`,
    );
  }
  if (dist && c.batchSize % dist.worldSize !== 0) {
    throw new RangeError(
      `batch size ${c.batchSize} is the global batch: it must be a multiple of the ${dist.worldSize} ranks`,
    );
  }
  let device: Device = deviceName(deviceCode(c.device));
  // one GPU per rank of a machine, as torchrun's LOCAL_RANK says (modulo the GPUs this process
  // sees: Slurm's --gpus-per-task shows each task only its own)
  if (dist && device.startsWith("cuda")) {
    device = `cuda:${dist.localRank % Math.max(1, cudaDeviceCount())}`;
  }
  const parallel = dist ? new DataParallel(dist, device) : null;
  try {
    return await trainRanked(c, dir, runDir, device, parallel, saved, last, options);
  } finally {
    parallel?.destroy();
  }
}

// deno-lint-ignore hlgm/max-function-lines -- issue 24: split along the run-folder planner
async function trainRanked(
  c: TrainConfig,
  dir: RunDir,
  runDir: string,
  device: Device,
  parallel: DataParallel | null,
  saved: RunInfo | null,
  last: TrainerState | null,
  options: TrainHooks & { overwrite?: boolean },
): Promise<TrainResult> {
  const writer = (parallel?.rank ?? 0) === 0;
  const world = parallel?.worldSize ?? 1;
  manualSeed(c.seed);
  // refused before anything is loaded or made (fp16-mixed where "auto" resolved to the CPU)
  const precision = stepPrecision(c, device);
  const data = await loadSplits(c);
  const imageSize = c.imageSize ?? data.train.height;
  if (saved) {
    // the same settings on other files (a dataset re-generated or replaced) is not this run
    const now = {
      train: data.train.n,
      val: data.val?.n ?? 0,
      test: data.test.n,
      shape: [data.train.channels, imageSize, imageSize],
      classes: data.train.classes,
    };
    const changed = (Object.keys(now) as (keyof typeof now)[]).filter((k) =>
      JSON.stringify(now[k]) !== JSON.stringify(saved.data[k])
    ).map((k) =>
      `data.${k} is ${JSON.stringify(saved.data[k])} in config.json, the data now gives ${
        JSON.stringify(now[k])
      }`
    );
    if (changed.length) {
      throw new Error(
        `cannot resume ${runDir}: its data changed since the run started (${
          changed.join("; ")
        }); restore the data, or start over with ${words().overwrite()}`,
      );
    }
  }
  const inputs = { channels: data.train.channels, imageSize, classes: data.train.classes.length };
  const model = createRunModel(c, inputs, device);
  if (c.channelsLast) model.toMemoryFormat("channels-last");
  const optimizer = makeOptimizer(c, model.parameters());
  const shard = (pad: boolean) =>
    parallel ? { shard: { rank: parallel.rank, worldSize: world, pad } } : {};
  const trainLoader = new DataLoader(data.train, {
    batchSize: c.batchSize / world,
    seed: c.seed,
    device,
    transforms: trainTransforms(c, data.train),
    ...shard(true),
  });
  const evalT = evalTransforms(c, data.test);
  // scored in batches of the training batch size (as Lightning's loaders): a fixed 1000 made the
  // evaluation, not the training, the run's memory peak (1.1 GB of activations on 40x40 images)
  const evalBatch = c.batchSize / world;
  const valLoader = data.val
    ? new DataLoader(data.val, {
      batchSize: evalBatch,
      shuffle: false,
      device,
      transforms: evalT,
      ...shard(false),
    })
    : null;
  const testLoader = new DataLoader(data.test, {
    batchSize: evalBatch,
    shuffle: false,
    device,
    transforms: evalT,
    ...shard(false),
  });
  const schedule = scheduleOf(c);
  let state: ScheduleState = initialState(schedule);
  let metrics: EpochMetrics[] = [];
  let best: BestEpoch | null = null;
  let bestAfterSwitch: BestEpoch | null = null;
  let startEpoch = 1;
  let pretrained: PretrainedLoad | null = null;
  try {
    if (last) {
      const { epoch, weights, state: stateFile } = last;
      const ck = dir.loadLocation({ epoch, weights, state: stateFile, note: null }, device);
      try {
        // a NaN/Inf model or optimizer state would train on as NaN: refused, naming the tensor
        assertFiniteWeights(ck.weights, `${dir.checkpoints}/${weights} (epoch ${epoch})`);
        assertFiniteWeights(ck.state ?? [], `${dir.checkpoints}/${stateFile} (epoch ${epoch})`);
      } catch (e) {
        for (const t of [...ck.weights.values(), ...(ck.state?.values() ?? [])]) t.dispose();
        throw new Error(
          `cannot resume: ${(e as Error).message}; start the run over with ${words().overwrite()}`,
          { cause: e },
        );
      }
      model.loadStateDict(ck.weights);
      const tensors = new Map<string, Tensor>();
      for (const [k, t] of ck.state ?? []) {
        if (k.startsWith("optimizer.")) tensors.set(k.slice(10), t);
      }
      optimizer.loadStateDict({ ...last.optimizer, tensors });
      const rng = ck.state?.get("rng.cpu");
      if (rng) setRngState(rng);
      for (const t of [...ck.weights.values(), ...(ck.state?.values() ?? [])]) t.dispose();
      state = last.schedule as unknown as ScheduleState;
      best = last.best;
      bestAfterSwitch = last.bestAfterSwitch ?? null;
      // fp16-mixed: the scale it had reached, not 2^16 again (a run resumed in another precision
      // has no scaler, or a new one)
      if (precision.scaler && last.gradScaler) precision.scaler.loadStateDict(last.gradScaler);
      startEpoch = last.epoch + 1;
      metrics = dir.readMetrics().filter((m) => m.epoch <= last.epoch);
      if (writer) dir.writeMetrics(metrics);
    } else {
      // before the run folder exists: weights that do not fit leave nothing behind
      pretrained = await loadRunPretrained(model, c, inputs, device);
    }
    // every rank starts from rank 0's weights (as DDP's constructor does); the others then draw
    // their own random numbers (dropout, augmentation, random fills), seeded by rank and epoch
    // (rank 0 keeps the stream a checkpoint saves)
    parallel?.broadcastModel(model);
    if (parallel && parallel.rank > 0) manualSeed(rankSeed(c.seed, parallel.rank, startEpoch));
    if (!last && writer) {
      if (options.overwrite) dir.clearResults();
      dir.removeCutWrites();
      dir.create();
      const i = info();
      const runInfo: RunInfo = {
        config: c,
        ...(pretrained ? { pretrained } : {}),
        versions: { hlgm: i.version, libtorch: i.libtorchVersion, deno: Deno.version.deno },
        device,
        data: {
          train: data.train.n,
          val: data.val?.n ?? 0,
          test: data.test.n,
          classes: data.train.classes,
          shape: [data.train.channels, imageSize, imageSize],
        },
        created: new Date().toISOString(),
      };
      dir.writeInfo(runInfo);
      dir.writeMetrics([]);
    }
    const ctx = {
      model,
      optimizer,
      lambda: c.lambda,
      saliency: makeSaliency(c, model),
      reduction: c.reduction,
      saliencySign: c.saliencySign,
      fill: c.fill,
      maskDilate: c.maskDilate,
      sync: parallel?.stepSync(),
      precision,
    };
    const evalSum = parallel?.evalSum();
    // a stop (Ctrl-C, SIGTERM) is agreed between the ranks, so all stop after the same batch
    const stopNow = () => {
      const mine = options.shouldStop?.() ?? false;
      return parallel ? parallel.any(mine) : mine;
    };
    options.onStart?.({
      device,
      ranks: world,
      threads: getNumThreads(),
      images: { train: data.train.n, val: data.val?.n ?? 0, test: data.test.n },
      shape: [data.train.channels, imageSize, imageSize],
      batches: trainLoader.length,
      firstEpoch: startEpoch,
      epochs: c.epochs,
      schedule: describeSchedule(schedule, c.epochs),
      warning: [unreachableSwitch(schedule, c.epochs), precisionWarning(precision, device)]
        .filter((w) => w !== null).join("; ") || null,
      pretrained,
    });
    const yielder = new Yielder();
    const events = c.tensorboard && writer ? new EventWriter(`${runDir}/tensorboard`) : null;
    for (let epoch = startEpoch; epoch <= c.epochs; epoch++) {
      const plan = planEpoch(schedule, state);
      let loss = 0, ce = 0, kl = 0, correct = 0, seen = 0, batch = 0;
      let maskedCe = 0, maskedCorrect = 0;
      let stepped = 0; // images of every batch, skipped fp16 steps too (the speed)
      const t0 = performance.now();
      for (const b of trainLoader.epoch(epoch)) {
        parallel?.at(`epoch ${epoch}, batch ${batch + 1}`);
        const r = trainStep(ctx, b.x, b.y, plan);
        parallel?.syncBuffers(model);
        b.x.dispose();
        b.y.dispose();
        b.boxes?.dispose();
        const scaler = precision.scaler;
        if (!Number.isFinite(r.loss) && !(scaler && scaler.scale >= FP16_LEAST_SCALE)) {
          // a KL weight far above the cross-entropy's scale is the other usual cause
          const lower = c.method !== "baseline" && c.lambda > 10
            ? `${words().setting("lr")} or ${words().setting("lambda")}`
            : words().setting("lr");
          return {
            runDir,
            metrics,
            status: "diverged",
            message: `loss became ${r.loss} at epoch ${epoch}, batch ${batch + 1}` +
              (scaler ? ` (its fp16 loss scale fell to ${scaler.scale})` : "") + "; stopped. " +
              divergedAdvice(epoch, lower),
          };
        }
        const n = b.indices.length * world; // the global batch: every rank's share is equal
        batch++;
        stepped += n;
        // fp16-mixed: a NaN/Inf loss means the scaler skipped the step and halved its scale (an
        // fp16 overflow); the epoch's figures leave the batch out
        if (Number.isFinite(r.loss)) {
          loss += r.loss * n;
          ce += r.ce * n;
          kl += r.kl * n;
          correct += r.correct;
          maskedCe += r.maskedCe * n;
          maskedCorrect += r.maskedCorrect;
          seen += n;
          options.onBatch?.({
            epoch,
            epochs: c.epochs,
            plan,
            batch,
            batches: trainLoader.length,
            loss: loss / seen,
            acc: correct / seen,
            imagesPerSecond: stepped / ((performance.now() - t0) / 1000),
          });
        }
        await yielder.tick(); // or signal listeners (Ctrl-C) never run
        if (stopNow()) {
          return {
            runDir,
            metrics,
            status: "interrupted",
            message: interruptedMessage(runDir, metrics, `in epoch ${epoch}, batch ${batch}`),
          };
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      if (seen === 0 && stepped > 0) {
        // fp16-mixed: every step of the epoch overflowed; an epoch with no figures is no epoch
        return {
          runDir,
          metrics,
          status: "diverged",
          message: `every step of epoch ${epoch} overflowed in fp16 (its loss scale fell to ` +
            `${precision.scaler?.scale}); stopped. ` + divergedAdvice(epoch, words().setting("lr")),
        };
      }
      // a stop asked for during the evaluation comes after this epoch's metrics and checkpoint
      parallel?.at(`epoch ${epoch}, evaluation`);
      const val = valLoader
        ? await evaluateAsync(model, valLoader.epoch(0, false), yielder, evalSum, precision)
        : null;
      const test = await evaluateAsync(
        model,
        testLoader.epoch(0, false),
        yielder,
        evalSum,
        precision,
      );
      const line: EpochMetrics = {
        epoch,
        phase: plan.phase,
        mode: plan.mode,
        k: plan.k,
        episode: plan.episode,
        de: plan.de,
        lr: optimizer.lr,
        train_loss: loss / seen,
        train_ce: ce / seen,
        train_kl: kl / seen,
        train_acc: correct / seen,
        train_masked_loss: plan.mode === "plain" ? null : maskedCe / seen,
        train_masked_acc: plan.mode === "plain" ? null : maskedCorrect / seen,
        val_loss: val?.loss ?? null,
        val_acc: val?.acc ?? null,
        test_loss: test.loss,
        test_acc: test.acc,
        seconds,
        images_per_s: stepped / seconds,
      };
      state = advance(schedule, state, plan, {
        epoch,
        valAcc: line.val_acc,
        valLoss: line.val_loss,
        trainLoss: line.train_loss,
      });
      const metric = val ? "val_acc" : "test_acc";
      const score = val ? val.acc : test.acc;
      const newBest: ("best" | "best-after-switch")[] = [];
      if (best === null || score > best.score) {
        best = { epoch, score, metric };
        newBest.push("best");
      }
      if (plan.phase === "sgt" && (bestAfterSwitch === null || score > bestAfterSwitch.score)) {
        bestAfterSwitch = { epoch, score, metric };
        newBest.push("best-after-switch");
      }
      const saving = (write: () => void) => {
        try {
          write();
        } catch (e) {
          // a full disk or a vanished folder: say what is kept and how to go on
          throw new Error(
            `${(e as Error).message}; epoch ${epoch} was not saved, ` +
              (epoch > 1
                ? `the epoch ${epoch - 1} checkpoint is kept: make room and continue with ` +
                  words().resume(runDir)
                : "no checkpoint was written yet"),
            { cause: e },
          );
        }
      };
      // what rank 0 saves is every rank's model (checked bit for bit, each epoch)
      parallel?.checkInSync(model, `after epoch ${epoch}`);
      if (writer) saving(() => dir.appendMetrics(line));
      metrics.push(line);
      events?.scalars(epoch, {
        "accuracy/train": line.train_acc,
        "accuracy/train_masked": line.train_masked_acc,
        "accuracy/val": line.val_acc,
        "accuracy/test": line.test_acc,
        "loss/train": line.train_loss,
        "loss/train_ce": line.train_ce,
        "loss/train_kl": line.train_kl,
        "loss/train_masked": line.train_masked_loss,
        "loss/val": line.val_loss,
        "loss/test": line.test_loss,
        "schedule/k": line.k,
        "schedule/lr": line.lr,
        "time/epoch_seconds": line.seconds,
        "time/images_per_s": line.images_per_s,
      });
      if (writer) saveEpoch(epoch, newBest, saving);
      // CPU blocks no step of this epoch reused (a phase's sizes, the last short batch's) go
      releaseCachedMemory({ unusedOnly: true });
      options.onEpoch?.(line);
      if (stopNow()) {
        return {
          runDir,
          metrics,
          status: "interrupted",
          message: interruptedMessage(runDir, metrics, `after epoch ${epoch}`),
        };
      }
    }
    return { runDir, metrics, status: "completed" };
  } finally {
    trainLoader.dispose();
    valLoader?.dispose();
    testLoader.dispose();
    optimizer.dispose();
    model.dispose();
    releaseCachedMemory(); // what comes next (SIB, a report, the next run) sizes its own
  }

  /** Writes the epoch's checkpoint (rank 0 only). */
  function saveEpoch(
    epoch: number,
    newBest: ("best" | "best-after-switch")[],
    saving: (write: () => void) => void,
  ): void {
    const weights = model.stateDict();
    const opt = optimizer.stateDict();
    const stateTensors = new Map<string, Tensor>(
      [...opt.tensors].map(([k, t]) => [`optimizer.${k}`, t]),
    );
    const rng = getRngState();
    stateTensors.set("rng.cpu", rng);
    try {
      saving(() =>
        dir.saveCheckpoint(
          epoch,
          weights,
          stateTensors,
          {
            schedule: state as unknown as Record<string, unknown>,
            optimizer: { type: opt.type, options: opt.options, steps: opt.steps },
            best,
            bestAfterSwitch,
            gradScaler: precision.scaler?.stateDict() ?? null,
          },
          newBest,
          { model: c.model, method: c.method, dataset: c.dataset, format: "pt" },
        )
      );
    } finally {
      for (const t of [...weights.values(), ...stateTensors.values()]) t.dispose();
    }
  }
}

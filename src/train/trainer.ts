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
import { scheduleOf, type TrainConfig } from "./config.ts";
import type { BestEpoch, EpochMetrics, TrainerState } from "../run_folder/mod.ts";
import {
  advance,
  describeSchedule,
  type EpochPlan,
  initialState,
  planEpoch,
  type ScheduleState,
  unreachableSwitch,
} from "./schedule.ts";
import { precisionWarning, type StepPrecision, stepPrecision } from "./precision.ts";
import { evaluateAsync, type StepContext, type StepResult, trainStep } from "./steps.ts";
import { EventWriter } from "./tensorboard.ts";
import {
  AdviceError,
  LIBRARY_VOCABULARY,
  messageIn,
  SettingError,
  type Vocabulary,
} from "../util/vocabulary.ts";
import { Yielder } from "../util/event_loop.ts";
import { lockRunFolder } from "../run_folder/run_lock.ts";
import { checkpointFiles, keptEpochs, linkOrCopy } from "../run_folder/kept.ts";
import {
  assertRunFolder,
  type ForkAt,
  type ForkPlan,
  planRun,
  type ResumePlan,
  type RunPlan,
  type RunRequest,
  type StartPlan,
} from "./run_plan.ts";
import type { ImageDataset } from "../data/dataset.ts";
import {
  createRunModel,
  evalTransforms,
  loadRunPretrained,
  loadSplits,
  type PretrainedLoad,
  trainTransforms,
} from "./setup.ts";
import { openRunDir, type TrainRunDir, type TrainRunInfo } from "./run_records.ts";

export { loadSplits };

/** A run's splits, as {@link loadSplits} gives them. */
type RunSplits = { train: ImageDataset; val: ImageDataset | null; test: ImageDataset };

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
  /** When this process starts a fork: the source run and the epoch it goes on after. */
  forkedFrom?: { run: string; epoch: number };
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
  /**
   * The words of what the run reports (a result's message, the start's warning), naming
   * settings as the caller does: the library's by default, the CLI's flags from the CLI.
   * Errors carry their own ({@link SettingError.render}).
   */
  vocabulary?: Vocabulary;
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

/** An interrupted run's result: where it stands and what to do next. */
function interrupted(
  runDir: string,
  metrics: EpochMetrics[],
  where: string,
  v: Vocabulary,
): TrainResult {
  const last = metrics.at(-1);
  const message = last
    ? `interrupted ${where}; the checkpoint of epoch ${last.epoch} is kept in ${runDir}; ` +
      `continue with ${v.resume(runDir)}`
    : `interrupted ${where}, before the first checkpoint; nothing to resume in ${runDir} ` +
      `(start again with the same settings)`;
  return { runDir, metrics, status: "interrupted", message };
}

/** How {@link train} runs: hooks, and what to do with the folder. */
export interface TrainOptions extends RunHooks {
  /** Continue the run in `runDir` from its last checkpoint, with its saved settings. */
  resume?: boolean;
  /**
   * With `resume`: run to this many epochs instead of the saved count (extends a run); more than
   * the run has done, else a {@link SettingError}.
   */
  epochs?: number;
  /**
   * Without `resume`: start over in a folder that holds results of a run, removing them. With
   * `resume`: start the run over with its saved settings when it has no checkpoint to go on from.
   */
  overwrite?: boolean;
}

/** Hooks, and how this process trains (alone, or as one rank of several). */
export interface RunHooks extends TrainHooks {
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
 * once the new run's data and model are ready. What the folder allows is decided by
 * {@link planRun} (its errors say what to do instead). The folder is locked while it trains: a
 * second writer (another process training, resuming, comparing or sweeping in it) gets
 * {@link RunFolderBusyError} at once.
 */
export async function train(
  config: TrainConfig,
  runDir: string,
  options: TrainOptions = {},
): Promise<TrainResult> {
  if (options.resume) assertRunFolder(runDir);
  const { resume, epochs, overwrite } = options;
  // one writer per folder, taken before the folder is read: held until this call returns
  return await withFolderPlan(
    runDir,
    resume
      ? { intent: "resume", settings: epochs === undefined ? {} : { epochs }, overwrite }
      : { intent: "new", config, overwrite },
    options,
  );
}

/** How {@link fork} runs: which epoch of the source, what changes, hooks. */
export interface ForkOptions extends TrainHooks {
  /** The source's epoch to go on after (default "last"): a kept one, "switch" or "last". */
  at?: ForkAt;
  /**
   * Settings that differ from the source's: the method, the masking and schedule settings, the
   * epochs, the precision and the device (FORK_SETTINGS); any other is a {@link SettingError}.
   */
  settings?: Partial<TrainConfig>;
  /** Fork over a folder that holds results of a run (they are removed first). */
  overwrite?: boolean;
}

/**
 * A new run in `runDir` that starts from the run in `source` after one of its epochs (its last
 * by default; one it kept, with `keepEvery` or as HLGM's "switch") and trains on with
 * `options.settings`: the source's weights, optimizer state, RNG, schedule position and best
 * epochs, and its metrics up to that epoch, with config.json's `forkedFrom` naming the source
 * and epoch. With the same settings but the method, a baseline forked at an HLGM run's switch
 * is the baseline trained from scratch, epoch for epoch. The new folder is locked while it
 * trains; a kept epoch can be forked while the source still trains, its last only once no
 * process writes it (else a {@link RunPlanError} "source-busy").
 *
 * @example A baseline and an SGT run from an HLGM run's plateau
 * ```ts
 * import { fork } from "../../mod.ts";
 * await fork("runs/hlgm", "runs/baseline-from-switch", {
 *   at: "switch",
 *   settings: { method: "baseline" },
 * });
 * await fork("runs/hlgm", "runs/sgt-from-switch", { at: "switch", settings: { method: "sgt" } });
 * ```
 */
export async function fork(
  source: string,
  runDir: string,
  options: ForkOptions = {},
): Promise<TrainResult> {
  const { at, settings, overwrite, ...hooks } = options;
  return await withFolderPlan(runDir, { intent: "fork", source, at, settings, overwrite }, hooks);
}

/** Plans `request` in `runDir` under its lock and carries the plan out. */
async function withFolderPlan(
  runDir: string,
  request: RunRequest,
  hooks: RunHooks,
): Promise<TrainResult> {
  const writer = (hooks.distributed?.rank ?? 0) === 0;
  const lock = writer ? lockRunFolder(runDir, "train") : null;
  try {
    return await trainPlan(planRun(runDir, request), hooks);
  } finally {
    lock?.release();
  }
}

/**
 * Carries out `plan` ({@link planRun}, made while holding the folder's lock): starts the run,
 * resumes it from the plan's checkpoint, or, for a finished run, returns its metrics. Takes the
 * folder's lock too (a second writer gets {@link RunFolderBusyError}; the planner's holder
 * shares it).
 */
export async function trainPlan(plan: RunPlan, options: RunHooks = {}): Promise<TrainResult> {
  const dir = openRunDir(plan.runDir);
  if (plan.action === "reuse") {
    return { runDir: plan.runDir, metrics: dir.readMetrics(), status: "completed" };
  }
  const dist = options.distributed;
  if (plan.action === "fork" && dist) {
    throw new SettingError(
      [],
      (v) =>
        `a fork is made by one process: fork ${plan.runDir} alone (with ` +
        `${v.setting("epochs")} ${plan.from.epoch} it trains nothing), then continue it ` +
        `data-parallel with ${v.resume(plan.runDir)}`,
    );
  }
  const writer = (dist?.rank ?? 0) === 0;
  const lock = writer ? lockRunFolder(plan.runDir, "train") : null;
  try {
    if (writer) dir.removeCutWrites(); // left by a kill during a write
    if (plan.action === "fork") {
      const resume = forkFolder(plan, dir);
      if (resume.last.epoch >= resume.config.epochs) {
        return { runDir: plan.runDir, metrics: plan.metrics, status: "completed" };
      }
      const { run, epoch } = plan.info.forkedFrom;
      return await trainPlan(resume, {
        ...options,
        onStart: (s) => options.onStart?.({ ...s, forkedFrom: { run, epoch } }),
      });
    }
    const c = plan.config;
    if (plan.action === "resume" && plan.extended && writer) {
      // an extended run's record says how long it now is
      dir.writeInfo({ ...plan.saved, config: c });
    }
    if (dist && c.batchSize % dist.worldSize !== 0) {
      throw new SettingError(
        ["batchSize"],
        (v) =>
          `${v.setting("batchSize")} ${c.batchSize} is the global batch: it must be a ` +
          `multiple of the ${dist.worldSize} ranks`,
      );
    }
    let device: Device = deviceName(deviceCode(c.device));
    // one GPU per rank of a machine, as torchrun's LOCAL_RANK says (modulo the GPUs this
    // process sees: Slurm's --gpus-per-task shows each task only its own)
    if (dist && device.startsWith("cuda")) {
      device = `cuda:${dist.localRank % Math.max(1, cudaDeviceCount())}`;
    }
    const parallel = dist ? new DataParallel(dist, device) : null;
    try {
      return await trainOnDevice(plan, dir, device, parallel, options);
    } finally {
      parallel?.destroy();
    }
  } finally {
    lock?.release();
  }
}

/**
 * Writes a fork's folder (the plan's config.json, the source's metrics up to the fork and its
 * checkpoint files, then last.json, the commit point) and returns the plan that resumes it.
 */
function forkFolder(plan: ForkPlan, dir: TrainRunDir): ResumePlan {
  if (plan.overwrite) dir.clearResults();
  dir.create();
  const i = info();
  const device = deviceName(deviceCode(plan.config.device));
  const saved: TrainRunInfo = {
    ...plan.info,
    versions: { hlgm: i.version, libtorch: i.libtorchVersion, deno: Deno.version.deno },
    device,
    created: new Date().toISOString(),
  };
  dir.writeInfo(saved);
  dir.writeMetrics(plan.metrics);
  const { folder } = plan.from;
  for (const f of checkpointFiles(folder, plan.last.weights, plan.last.state)) {
    if (f === "last.json") continue; // the fork's own record, below
    try {
      // the state file keeps the checkpoint's record: the fork's, not the source's
      if (f === plan.last.state) dir.checkpoints.copyStateFile(`${folder}/${f}`, plan.last);
      else linkOrCopy(`${folder}/${f}`, `${dir.checkpoints.folder}/${f}`);
    } catch (e) {
      throw new Error(
        `cannot fork from ${folder}/${f} (${(e as Error).message}): if another process trains ` +
          `the source, fork it once that process has stopped`,
        { cause: e },
      );
    }
  }
  dir.checkpoints.writeLast(plan.last);
  return {
    action: "resume",
    runDir: plan.runDir,
    config: plan.config,
    saved,
    last: plan.last,
    note: null,
    extended: false,
  };
}

/** A run's data, model, optimizer and loaders, made for its device (and this rank's shard). */
interface RunParts {
  config: TrainConfig;
  dir: TrainRunDir;
  device: Device;
  parallel: DataParallel | null;
  /** This process writes the run folder (rank 0). */
  writer: boolean;
  /** Processes training together. */
  world: number;
  precision: StepPrecision;
  data: RunSplits;
  /** The images' side as the model sees them. */
  imageSize: number;
  model: Model;
  optimizer: Optimizer;
  trainLoader: DataLoader;
  valLoader: DataLoader | null;
  testLoader: DataLoader;
}

/** Where a run stands: what the checkpoint restores, updated after every epoch. */
interface RunProgress {
  state: ScheduleState;
  metrics: EpochMetrics[];
  best: BestEpoch | null;
  bestAfterSwitch: BestEpoch | null;
  /** The epoch this process starts with. */
  startEpoch: number;
}

async function trainOnDevice(
  plan: StartPlan | ResumePlan,
  dir: TrainRunDir,
  device: Device,
  parallel: DataParallel | null,
  options: TrainHooks,
): Promise<TrainResult> {
  const c = plan.config;
  manualSeed(c.seed);
  // refused before anything is loaded or made (fp16-mixed where "auto" resolved to the CPU)
  const precision = stepPrecision(c, device);
  const data = await loadSplits(c);
  const imageSize = c.imageSize ?? data.train.height;
  if (plan.action === "resume") checkSameData(plan, data, imageSize);
  const inputs = { channels: data.train.channels, imageSize, classes: data.train.classes.length };
  const model = createRunModel(c, inputs, device);
  if (c.channelsLast) model.toMemoryFormat("channels-last");
  const optimizer = makeOptimizer(c, model.parameters());
  const world = parallel?.worldSize ?? 1;
  const run: RunParts = {
    config: c,
    dir,
    device,
    parallel,
    writer: (parallel?.rank ?? 0) === 0,
    world,
    precision,
    data,
    imageSize,
    model,
    optimizer,
    ...makeLoaders(c, data, device, parallel),
  };
  try {
    let pretrained: PretrainedLoad | null = null;
    let progress: RunProgress;
    if (plan.action === "resume") {
      progress = restoreCheckpoint(run, plan.last);
      if (run.writer) keepMissed(run, plan.last, progress.metrics);
    } else {
      // before the run folder exists: weights that do not fit leave nothing behind
      pretrained = await loadRunPretrained(model, c, inputs, device);
      progress = {
        state: initialState(scheduleOf(c)),
        metrics: [],
        best: null,
        bestAfterSwitch: null,
        startEpoch: 1,
      };
    }
    // every rank starts from rank 0's weights (as DDP's constructor does); the others then draw
    // their own random numbers (dropout, augmentation, random fills), seeded by rank and epoch
    // (rank 0 keeps the stream a checkpoint saves)
    parallel?.broadcastModel(model);
    if (parallel && parallel.rank > 0) {
      manualSeed(rankSeed(c.seed, parallel.rank, progress.startEpoch));
    }
    if (plan.action === "start" && run.writer) startFolder(run, plan.overwrite, pretrained);
    options.onStart?.(runStart(run, progress.startEpoch, pretrained, options.vocabulary));
    return await trainEpochs(run, progress, options);
  } finally {
    run.trainLoader.dispose();
    run.valLoader?.dispose();
    run.testLoader.dispose();
    optimizer.dispose();
    model.dispose();
    releaseCachedMemory(); // what comes next (SIB, a report, the next run) sizes its own
  }
}

/** The same settings on other files (a dataset re-generated or replaced) is not this run. */
function checkSameData(plan: ResumePlan, data: RunSplits, imageSize: number): void {
  const saved = plan.saved;
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
    throw new AdviceError((v) =>
      `cannot resume ${plan.runDir}: its data changed since the run started (${
        changed.join("; ")
      }); restore the data, or start over with ${v.overwrite()}`
    );
  }
}

/** The training loader (shuffled, this rank's shard) and the evaluation loaders. */
function makeLoaders(
  c: TrainConfig,
  data: RunSplits,
  device: Device,
  parallel: DataParallel | null,
): Pick<RunParts, "trainLoader" | "valLoader" | "testLoader"> {
  const world = parallel?.worldSize ?? 1;
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
  const evalLoader = (split: RunSplits["test"]) =>
    new DataLoader(split, {
      batchSize: c.batchSize / world,
      shuffle: false,
      device,
      transforms: evalT,
      ...shard(false),
    });
  return {
    trainLoader,
    valLoader: data.val ? evalLoader(data.val) : null,
    testLoader: evalLoader(data.test),
  };
}

/** Loads the checkpoint `last` names into the model, optimizer, RNG and loss scaler. */
function restoreCheckpoint(run: RunParts, last: TrainerState): RunProgress {
  const { dir, model, optimizer, precision } = run;
  const { epoch, weights, state: stateFile } = last;
  const ck = dir.checkpoints.loadLocation(
    { epoch, weights, state: stateFile, note: null },
    run.device,
  );
  const all = () => [...ck.weights.values(), ...(ck.state?.values() ?? [])];
  try {
    // a NaN/Inf model or optimizer state would train on as NaN: refused, naming the tensor
    assertFiniteWeights(ck.weights, `${dir.checkpoints.folder}/${weights} (epoch ${epoch})`);
    assertFiniteWeights(ck.state ?? [], `${dir.checkpoints.folder}/${stateFile} (epoch ${epoch})`);
  } catch (e) {
    for (const t of all()) t.dispose();
    throw new AdviceError(
      (v) => `cannot resume: ${messageIn(e, v)}; start the run over with ${v.overwrite()}`,
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
  // a CUDA run's random fills and flips draw from its device's generator (absent in a CPU run's
  // checkpoint: a run moved to a GPU starts that stream from its seed)
  const cudaRng = ck.state?.get("rng.cuda");
  if (cudaRng && run.device.startsWith("cuda")) setRngState(cudaRng, run.device);
  for (const t of all()) t.dispose();
  // fp16-mixed: the scale it had reached, not 2^16 again (a run resumed in another precision
  // has no scaler, or a new one)
  if (precision.scaler && last.gradScaler) precision.scaler.loadStateDict(last.gradScaler);
  const metrics = dir.readMetrics().filter((m) => m.epoch <= last.epoch);
  if (run.writer) dir.writeMetrics(metrics);
  return {
    state: last.schedule as unknown as ScheduleState,
    metrics,
    best: last.best,
    bestAfterSwitch: last.bestAfterSwitch ?? null,
    startEpoch: last.epoch + 1,
  };
}

/**
 * Keeps the checkpoint a run resumes from when it was due to be kept (its switch, or a
 * keepEvery-th epoch) and is not: the process died after the checkpoint's last.json was written
 * and before its copy was made.
 */
function keepMissed(run: RunParts, last: TrainerState, metrics: EpochMetrics[]): void {
  const c = run.config;
  const schedule = last.schedule as unknown as ScheduleState;
  const switched = schedule.phase === "sgt" && metrics.at(-1)?.phase === "train";
  const due = switched || (c.keepEvery !== undefined && last.epoch % c.keepEvery === 0);
  if (due && !keptEpochs(run.dir.checkpoints.folder).includes(last.epoch)) {
    run.dir.checkpoints.keep(last);
  }
}

/** A new run's folder: the old results gone (when overwriting), its config.json written. */
function startFolder(run: RunParts, overwrite: boolean, pretrained: PretrainedLoad | null): void {
  const { dir, data, imageSize, config: c } = run;
  if (overwrite) dir.clearResults();
  dir.removeCutWrites();
  dir.create();
  const i = info();
  const runInfo: TrainRunInfo = {
    config: c,
    ...(pretrained ? { pretrained } : {}),
    versions: { hlgm: i.version, libtorch: i.libtorchVersion, deno: Deno.version.deno },
    device: run.device,
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

/** What {@link TrainHooks.onStart} is told. */
function runStart(
  run: RunParts,
  firstEpoch: number,
  pretrained: PretrainedLoad | null,
  v: Vocabulary = LIBRARY_VOCABULARY,
): RunStart {
  const { data, config: c } = run;
  const schedule = scheduleOf(c);
  return {
    device: run.device,
    ranks: run.world,
    threads: getNumThreads(),
    images: { train: data.train.n, val: data.val?.n ?? 0, test: data.test.n },
    shape: [data.train.channels, run.imageSize, run.imageSize],
    batches: run.trainLoader.length,
    firstEpoch,
    epochs: c.epochs,
    schedule: describeSchedule(schedule, c.epochs),
    warning:
      [unreachableSwitch(schedule, c.epochs, v), precisionWarning(run.precision, run.device, v)]
        .filter((w) => w !== null).join("; ") || null,
    pretrained,
  };
}

/** An epoch's training figures (images-weighted sums), or how the run stopped within it. */
type EpochTrained =
  | StepResult & {
    /** Images whose step counted (a skipped fp16 step's do not). */
    seen: number;
    /** Images of every batch, skipped fp16 steps too (the speed). */
    stepped: number;
    seconds: number;
  }
  | { stopped: TrainResult };

/** The epochs from `progress.startEpoch` on: train, evaluate, log, save, each in turn. */
async function trainEpochs(
  run: RunParts,
  progress: RunProgress,
  options: TrainHooks,
): Promise<TrainResult> {
  const { config: c, model, parallel } = run;
  const runDir = run.dir.path;
  const schedule = scheduleOf(c);
  const ctx: StepContext = {
    model,
    optimizer: run.optimizer,
    lambda: c.lambda,
    saliency: makeSaliency(c, model),
    reduction: c.reduction,
    saliencySign: c.saliencySign,
    fill: c.fill,
    maskDilate: c.maskDilate,
    sync: parallel?.stepSync(),
    precision: run.precision,
  };
  // a stop (Ctrl-C, SIGTERM) is agreed between the ranks, so all stop after the same batch
  const stopNow = () => {
    const mine = options.shouldStop?.() ?? false;
    return parallel ? parallel.any(mine) : mine;
  };
  const yielder = new Yielder();
  const words = options.vocabulary ?? LIBRARY_VOCABULARY;
  const events = c.tensorboard && run.writer ? new EventWriter(`${runDir}/tensorboard`) : null;
  for (let epoch = progress.startEpoch; epoch <= c.epochs; epoch++) {
    const plan = planEpoch(schedule, progress.state);
    const trained = await trainEpoch(run, ctx, progress, epoch, plan, {
      ...options,
      stopNow,
      yielder,
      words,
    });
    if ("stopped" in trained) return trained.stopped;
    const line = await evaluateEpoch(run, epoch, plan, trained, yielder);
    progress.state = advance(schedule, progress.state, plan, {
      epoch,
      valAcc: line.val_acc,
      valLoss: line.val_loss,
      trainLoss: line.train_loss,
    });
    const newBest = updateBest(progress, line, plan);
    // the switch's state (the last plain epoch's) and every keepEvery-th are kept to fork from
    const switched = plan.phase === "train" && progress.state.phase === "sgt";
    const keep = switched || (c.keepEvery !== undefined && epoch % c.keepEvery === 0);
    // what rank 0 saves is every rank's model (checked bit for bit, each epoch)
    parallel?.checkInSync(model, `after epoch ${epoch}`);
    if (run.writer) saving(runDir, epoch, () => run.dir.appendMetrics(line));
    progress.metrics.push(line);
    events?.scalars(epoch, epochScalars(line));
    if (run.writer) saveEpoch(run, progress, epoch, newBest, keep);
    // CPU blocks no step of this epoch reused (a phase's sizes, the last short batch's) go
    releaseCachedMemory({ unusedOnly: true });
    options.onEpoch?.(line);
    if (stopNow()) return interrupted(runDir, progress.metrics, `after epoch ${epoch}`, words);
  }
  return { runDir, metrics: progress.metrics, status: "completed" };
}

/** One epoch's batches; a stop asked for, or a loss gone NaN/Inf, ends it early. */
async function trainEpoch(
  run: RunParts,
  ctx: StepContext,
  progress: RunProgress,
  epoch: number,
  plan: EpochPlan,
  hooks: TrainHooks & { stopNow: () => boolean; yielder: Yielder; words: Vocabulary },
): Promise<EpochTrained> {
  const { config: c, parallel, precision, world } = run;
  const runDir = run.dir.path;
  const metrics = progress.metrics;
  const sums: StepResult = { loss: 0, ce: 0, kl: 0, correct: 0, maskedCe: 0, maskedCorrect: 0 };
  let seen = 0, batch = 0;
  let stepped = 0; // images of every batch, skipped fp16 steps too (the speed)
  const t0 = performance.now();
  for (const b of run.trainLoader.epoch(epoch)) {
    parallel?.at(`epoch ${epoch}, batch ${batch + 1}`);
    const r = trainStep(ctx, b.x, b.y, plan);
    parallel?.syncBuffers(run.model);
    b.x.dispose();
    b.y.dispose();
    b.boxes?.dispose();
    const scaler = precision.scaler;
    if (!Number.isFinite(r.loss) && !(scaler && scaler.scale >= FP16_LEAST_SCALE)) {
      // a KL weight far above the cross-entropy's scale is the other usual cause
      const v = hooks.words;
      const lower = c.method !== "baseline" && c.lambda > 10
        ? `${v.setting("lr")} or ${v.setting("lambda")}`
        : v.setting("lr");
      return {
        stopped: {
          runDir,
          metrics,
          status: "diverged",
          message: `loss became ${r.loss} at epoch ${epoch}, batch ${batch + 1}` +
            (scaler ? ` (its fp16 loss scale fell to ${scaler.scale})` : "") + "; stopped. " +
            divergedAdvice(epoch, lower),
        },
      };
    }
    const n = b.indices.length * world; // the global batch: every rank's share is equal
    batch++;
    stepped += n;
    // fp16-mixed: a NaN/Inf loss means the scaler skipped the step and halved its scale (an
    // fp16 overflow); the epoch's figures leave the batch out
    if (Number.isFinite(r.loss)) {
      sums.loss += r.loss * n;
      sums.ce += r.ce * n;
      sums.kl += r.kl * n;
      sums.correct += r.correct;
      sums.maskedCe += r.maskedCe * n;
      sums.maskedCorrect += r.maskedCorrect;
      seen += n;
      hooks.onBatch?.({
        epoch,
        epochs: c.epochs,
        plan,
        batch,
        batches: run.trainLoader.length,
        loss: sums.loss / seen,
        acc: sums.correct / seen,
        imagesPerSecond: stepped / ((performance.now() - t0) / 1000),
      });
    }
    await hooks.yielder.tick(); // or signal listeners (Ctrl-C) never run
    if (hooks.stopNow()) {
      const where = `in epoch ${epoch}, batch ${batch}`;
      return { stopped: interrupted(runDir, metrics, where, hooks.words) };
    }
  }
  if (seen === 0 && stepped > 0) {
    // fp16-mixed: every step of the epoch overflowed; an epoch with no figures is no epoch
    return {
      stopped: {
        runDir,
        metrics,
        status: "diverged",
        message: `every step of epoch ${epoch} overflowed in fp16 (its loss scale fell to ` +
          `${precision.scaler?.scale}); stopped. ` +
          divergedAdvice(epoch, hooks.words.setting("lr")),
      },
    };
  }
  return { ...sums, seen, stepped, seconds: (performance.now() - t0) / 1000 };
}

/** The epoch's metrics line: its training figures, then the validation and test scores. */
async function evaluateEpoch(
  run: RunParts,
  epoch: number,
  plan: EpochPlan,
  t: Exclude<EpochTrained, { stopped: TrainResult }>,
  yielder: Yielder,
): Promise<EpochMetrics> {
  const { model, precision } = run;
  const evalSum = run.parallel?.evalSum();
  // a stop asked for during the evaluation comes after this epoch's metrics and checkpoint
  run.parallel?.at(`epoch ${epoch}, evaluation`);
  const val = run.valLoader
    ? await evaluateAsync(model, run.valLoader.epoch(0, false), yielder, evalSum, precision)
    : null;
  const test = await evaluateAsync(
    model,
    run.testLoader.epoch(0, false),
    yielder,
    evalSum,
    precision,
  );
  return {
    epoch,
    phase: plan.phase,
    mode: plan.mode,
    k: plan.k,
    episode: plan.episode,
    de: plan.de,
    lr: run.optimizer.lr,
    train_loss: t.loss / t.seen,
    train_ce: t.ce / t.seen,
    train_kl: t.kl / t.seen,
    train_acc: t.correct / t.seen,
    train_masked_loss: plan.mode === "plain" ? null : t.maskedCe / t.seen,
    train_masked_acc: plan.mode === "plain" ? null : t.maskedCorrect / t.seen,
    val_loss: val?.loss ?? null,
    val_acc: val?.acc ?? null,
    test_loss: test.loss,
    test_acc: test.acc,
    seconds: t.seconds,
    images_per_s: t.stepped / t.seconds,
  };
}

/** Records the epoch as best (and best after the switch) when it is; returns which it became. */
function updateBest(
  progress: RunProgress,
  line: EpochMetrics,
  plan: EpochPlan,
): ("best" | "best-after-switch")[] {
  const metric = line.val_acc !== null ? "val_acc" : "test_acc";
  const score = line.val_acc ?? line.test_acc;
  const epoch = line.epoch;
  const newBest: ("best" | "best-after-switch")[] = [];
  if (progress.best === null || score > progress.best.score) {
    progress.best = { epoch, score, metric };
    newBest.push("best");
  }
  if (
    plan.phase === "sgt" &&
    (progress.bestAfterSwitch === null || score > progress.bestAfterSwitch.score)
  ) {
    progress.bestAfterSwitch = { epoch, score, metric };
    newBest.push("best-after-switch");
  }
  return newBest;
}

/** The epoch's TensorBoard scalars. */
function epochScalars(line: EpochMetrics): Record<string, number | null> {
  return {
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
  };
}

/** Runs a write of epoch `epoch`; a full disk or a vanished folder says what is kept. */
function saving(runDir: string, epoch: number, write: () => void): void {
  try {
    write();
  } catch (e) {
    throw new AdviceError(
      (v) =>
        `${messageIn(e, v)}; epoch ${epoch} was not saved, ` +
        (epoch > 1
          ? `the epoch ${epoch - 1} checkpoint is kept: make room and continue with ` +
            v.resume(runDir)
          : "no checkpoint was written yet"),
      { cause: e },
    );
  }
}

/** Writes the epoch's checkpoint (rank 0 only). */
function saveEpoch(
  run: RunParts,
  progress: RunProgress,
  epoch: number,
  newBest: ("best" | "best-after-switch")[],
  keep: boolean,
): void {
  const { config: c, model, optimizer, precision } = run;
  const weights = model.stateDict();
  const opt = optimizer.stateDict();
  const stateTensors = new Map<string, Tensor>(
    [...opt.tensors].map(([k, t]) => [`optimizer.${k}`, t]),
  );
  stateTensors.set("rng.cpu", getRngState());
  if (run.device.startsWith("cuda")) stateTensors.set("rng.cuda", getRngState(run.device));
  try {
    saving(run.dir.path, epoch, () =>
      run.dir.checkpoints.saveCheckpoint(
        epoch,
        weights,
        stateTensors,
        {
          schedule: progress.state as unknown as Record<string, unknown>,
          optimizer: { type: opt.type, options: opt.options, steps: opt.steps },
          best: progress.best,
          bestAfterSwitch: progress.bestAfterSwitch,
          gradScaler: precision.scaler?.stateDict() ?? null,
        },
        newBest,
        { model: c.model, method: c.method, dataset: c.dataset, format: "pt" },
        keep,
      ));
  } finally {
    for (const t of [...weights.values(), ...stateTensors.values()]) t.dispose();
  }
}

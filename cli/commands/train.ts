/**
 * `hlgm train`: resolves the configuration (defaults, then --config file.json, then flags),
 * validates it, and runs the training engine with a progress bar on a terminal (plain
 * per-epoch lines otherwise). Ctrl-C stops after the current batch, keeping the last
 * checkpoint; a second Ctrl-C exits at once.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { ProgressLine } from "../progress.ts";
import {
  configProblems,
  defaultConfig,
  MODEL_DEFAULTS,
  type TrainConfig,
  unknownKeyProblems,
} from "../../src/train/config.ts";
import { type EpochMetrics, RunDir } from "../../src/train/run_dir.ts";
import { train, type TrainResult } from "../../src/train/trainer.ts";

/**
 * Reads a --config JSON file: an object of settings, or a run folder's config.json (settings
 * under "config"). Errors name the file and every unknown key.
 */
function readConfigFile(path: string): Partial<TrainConfig> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new UsageError(`--config ${path}: cannot read (${(e as Error).message})`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${path}: invalid JSON (${(e as Error).message})`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(j)) {
    throw new UsageError(`--config ${path}: expected a JSON object of settings, got ${kindOf(j)}`);
  }
  const runFile = "config" in j && "versions" in j; // a run folder's config.json
  const settings = runFile ? j.config : j;
  if (!isObject(settings)) {
    throw new UsageError(`--config ${path}: "config" must be an object, got ${kindOf(settings)}`);
  }
  const unknown = unknownKeyProblems(settings);
  if (unknown.length) throw new UsageError(`--config ${path}: ${unknown.join("; ")}`);
  return settings as Partial<TrainConfig>;
}

function kindOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}

/** Defaults, then the config file, then the flags; throws UsageError listing every problem. */
export function resolveConfig(flags: Record<string, unknown>, configFile?: string): TrainConfig {
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const merged = { ...fromFile, ...flags } as Partial<TrainConfig>;
  // a model change moves the optimizer/lr defaults unless they were given
  const model = merged.model ?? "shallow-cnn";
  const d = MODEL_DEFAULTS[model];
  const config = defaultConfig({ ...(d ?? {}), ...merged });
  const problems = configProblems(config);
  if (problems.length) throw new UsageError(problems.join("; "));
  if (config.dataDir) {
    try {
      if (!Deno.statSync(config.dataDir).isDirectory) throw new Error("not a folder");
    } catch {
      throw new UsageError(`data-dir ${config.dataDir} does not exist`);
    }
  }
  return config;
}

function defaultOut(c: TrainConfig): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `runs/${c.dataset}-${c.model}-${c.method}-seed${c.seed}-${stamp}`;
}

const pct = (v: number | null) => (v === null ? "   -  " : `${(100 * v).toFixed(2)}%`);

/** One plain line per epoch. */
export function epochLine(m: EpochMetrics, epochs: number): string {
  const k = m.k === null ? "" : ` k=${m.k.toFixed(2)}`;
  return `epoch ${
    String(m.epoch).padStart(String(epochs).length)
  }/${epochs} ${m.phase}/${m.mode}${k}: ` +
    `loss ${m.train_loss.toFixed(4)} acc ${pct(m.train_acc)} | val ${pct(m.val_acc)} | ` +
    `test ${pct(m.test_acc)} | ${m.seconds.toFixed(1)} s, ${m.images_per_s.toFixed(0)} img/s`;
}

/** Runs one training job; returns the engine's result. */
export async function runTraining(
  config: TrainConfig,
  out: string,
  resume: boolean,
  quiet = false,
): Promise<TrainResult> {
  const progress = new ProgressLine();
  let stop = false;
  const onSignal = () => {
    if (stop) Deno.exit(130);
    stop = true;
    progress.done();
    console.error("stopping after this batch (Ctrl-C again to quit at once)...");
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    return await train(config, out, {
      resume,
      shouldStop: () => stop,
      onBatch: (p) => {
        const eta = ((p.batches - p.batch) * config.batchSize) / Math.max(p.imagesPerSecond, 1e-9);
        progress.update(
          `epoch ${p.epoch}/${p.epochs} ${p.plan.phase}/${p.plan.mode} batch ${p.batch}/${p.batches} ` +
            `loss ${p.loss.toFixed(4)} acc ${(100 * p.acc).toFixed(1)}% ${
              p.imagesPerSecond.toFixed(0)
            } img/s ` +
            `ETA ${eta.toFixed(0)}s`,
          p.batch / p.batches,
        );
      },
      onEpoch: (m) => {
        progress.done();
        if (!quiet) console.log(epochLine(m, config.epochs));
      },
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    progress.done();
  }
}

/** `train` command. */
export async function runTrain(
  opts: Record<string, unknown>,
  flags: Record<string, unknown>,
): Promise<void> {
  const resumeDir = opts.resume as string | undefined;
  let config: TrainConfig;
  let out: string;
  if (resumeDir) {
    try {
      const j = JSON.parse(Deno.readTextFileSync(`${resumeDir}/config.json`));
      config = j.config as TrainConfig;
    } catch {
      throw new UsageError(`--resume ${resumeDir}: not a run folder (no readable config.json)`);
    }
    if (Object.keys(flags).length) {
      throw new UsageError(
        `--resume continues a run with its saved configuration; drop ${
          Object.keys(flags).join(", ")
        }`,
      );
    }
    out = resumeDir;
  } else {
    config = resolveConfig(flags, opts.config as string | undefined);
    out = (opts.out as string | undefined) ?? defaultOut(config);
    if (new RunDir(out).readLast()) {
      throw new UsageError(
        `${out} already holds a run; continue it with --resume ${out} or choose another --out`,
      );
    }
  }
  console.log(
    `${
      resumeDir ? "resuming" : "training"
    } ${config.method} on ${config.model} / ${config.dataset}` +
      `${
        config.subset ? ` (subset ${config.subset})` : ""
      }: ${config.epochs} epochs, batch ${config.batchSize}, ` +
      `${config.optimizer} lr ${config.lr}, device ${config.device}, seed ${config.seed} -> ${out}`,
  );
  const result = await runTraining(config, out, !!resumeDir);
  if (result.status !== "completed") {
    console.error(result.message);
    if (result.status === "diverged") Deno.exitCode = 1;
    else Deno.exitCode = 130;
    return;
  }
  const best = Math.max(...result.metrics.map((m) => m.test_acc));
  const final = result.metrics.at(-1)?.test_acc ?? NaN;
  console.log(`done: max test acc ${pct(best)}, final ${pct(final)}; run folder ${out}`);
}

/**
 * `hlgm train`: resolves the configuration (defaults, then --config file.json, then flags),
 * validates it, and runs the training engine with a progress bar on a terminal (plain
 * per-epoch lines otherwise). Ctrl-C stops after the current batch, keeping the last
 * checkpoint; a second Ctrl-C exits at once.
 * The configuration is resolved in cli/train_config.ts, the loop with its progress line runs
 * in cli/training.ts (shared with `demo`).
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { cliMessage } from "../flag_vocabulary.ts";
import { selfCommand } from "../self_command.ts";
import { resolveConfig } from "../train_config.ts";
import { pct, runTraining } from "../training.ts";
import type { TrainConfig } from "../../src/train/config.ts";
import { basename, resolve } from "node:path";
import {
  assertRunFolder,
  parseForkSource,
  planRun,
  type RunPlan,
  RunPlanError,
  type RunRequest,
} from "../../src/train/run_plan.ts";
import { SettingError } from "../../src/util/vocabulary.ts";
import {
  LOCK_HOLDER_ENV,
  lockRunFolder,
  type RunFolderLock,
} from "../../src/run_folder/run_lock.ts";
import { checkOutFolder, shownPath } from "../paths.ts";
import { launchLocalRanks, stopWhenLauncherGoes, totalThreads } from "../../src/runs/launch.ts";
import type { DistributedTraining } from "../../src/train/distributed.ts";
import { type DistributedEnv, distributedEnv } from "../../src/tensor/distributed.ts";

function defaultOut(c: TrainConfig): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `runs/${c.dataset}-${c.model}-${c.method}-seed${c.seed}-${stamp}`;
}

/** `train` command. */
export async function runTrain(
  opts: Record<string, unknown>,
  flags: Record<string, unknown>,
): Promise<void> {
  const held: RunFolderLock[] = [];
  try {
    await trainCommand(opts, flags, held);
  } finally {
    for (const l of held) l.release();
  }
}

async function trainCommand(
  opts: Record<string, unknown>,
  flags: Record<string, unknown>,
  held: RunFolderLock[],
): Promise<void> {
  const distributed = distributedTraining(opts);
  // a rank of --nproc stops (as on SIGTERM, with the others) when its launcher is gone
  if (distributed) stopWhenLauncherGoes(() => Deno.kill(Deno.pid, "SIGTERM"));
  const request = trainRequest(opts, flags, distributed);
  const out = request.out;
  // one writer per run folder, taken before anything in it is read to decide what to do; held
  // until the command ends (the ranks of --nproc write under their launcher's)
  if ((distributed?.rank ?? 0) === 0) held.push(lockRunFolder(out, "train"));
  const plan = planned(out, request);
  if (request.restart && (distributed?.rank ?? 0) === 0) {
    // torchrun restarting the ranks after a failure (--max_restarts) runs the same command
    // again: the run it started goes on from its last checkpoint, or starts over without one
    const say = (text: string) => console.error(`torchrun restart ${request.restart}: ${text}`);
    if (plan.action === "resume") say(`continuing ${out} after epoch ${plan.last.epoch}`);
    else if (plan.action === "start" && plan.overwrite) {
      say(`${out} has no checkpoint that loads: starting the run over`);
    }
  }
  if (plan.action === "fork") {
    const o = plan.info.forkedFrom;
    console.log(
      `forking ${o.run} after its epoch ${o.epoch}${o.at === "switch" ? " (its switch)" : ""} ` +
        `into ${out}${o.changed.length ? `; changed: ${o.changed.join(", ")}` : ""}`,
    );
  }
  if (plan.note) console.error(`warning: ${plan.note}`);
  if (plan.action === "reuse") {
    console.log(
      `${out} is complete (${plan.epoch} of ${plan.config.epochs} epochs): nothing to resume ` +
        `(\`--epochs N\` with N > ${plan.epoch} extends it)`,
    );
    return;
  }
  const nproc = opts.nproc as number | undefined;
  const world = nproc ?? distributed?.worldSize ?? 1;
  if (plan.config.batchSize % world !== 0) {
    throw new UsageError(
      `--batch-size ${plan.config.batchSize} is the global batch: it must be a multiple of ` +
        (nproc ? `--nproc ${nproc}` : `the ${world} ranks`),
    );
  }
  if (nproc !== undefined && nproc > 1) {
    await launchRanks(nproc, opts.resume === undefined && opts.out === undefined ? out : null);
    return;
  }
  const result = await runTraining(plan, { distributed });
  if (distributed && distributed.rank !== 0) {
    if (result.status === "diverged") Deno.exitCode = 1; // rank 0 says why
    return;
  }
  if (result.status !== "completed") {
    console.error(result.message);
    if (result.status === "diverged") Deno.exitCode = 1;
    // interrupted: 130/143, set by the signal handler; or 130 when another rank got the signal
    // first and the ranks agreed to stop before this one's handler ran
    else if (!Deno.exitCode) Deno.exitCode = 130;
    return;
  }
  const best = Math.max(...result.metrics.map((m) => m.test_acc));
  const final = result.metrics.at(-1)?.test_acc ?? NaN;
  console.log(`done: max test acc ${pct(best)}, final ${pct(final)}; run folder ${out}`);
}

/** What `train`'s flags ask of which folder; `restart` is torchrun's attempt, 0 for none. */
type TrainRequest = RunRequest & { out: string; restart: number; flag: "--out" | "--resume" };

function trainRequest(
  opts: Record<string, unknown>,
  flags: Record<string, unknown>,
  distributed: LaunchedRank | undefined,
): TrainRequest {
  const settings = flags as Partial<TrainConfig>;
  const overwrite = !!opts.force;
  const resume = opts.resume as string | undefined;
  if (resume !== undefined && opts.fork !== undefined) {
    throw new UsageError(
      "--resume continues a run in its folder; --fork starts a new one from it: give one",
    );
  }
  if (resume !== undefined) {
    if (opts.out !== undefined || opts.config !== undefined) {
      throw new UsageError(
        `--resume continues ${shownPath(resume)} in its folder with its saved settings; ` +
          `it takes no ${opts.out !== undefined ? "--out" : "--config"}`,
      );
    }
    if (resume.trim() === "") throw new UsageError(`--resume "" is empty: give a run folder`);
    // before the lock, which would make the folder
    cliPlanError("--resume", () => assertRunFolder(resume));
    return { intent: "resume", settings, overwrite, out: resume, restart: 0, flag: "--resume" };
  }
  if (opts.fork !== undefined) return forkRequest(opts, settings, distributed);
  const config = resolveConfig(flags, opts.config as string | undefined);
  if (distributed && opts.out === undefined) {
    throw new UsageError(
      "data-parallel training under a launcher needs --out: every rank must write to the " +
        "same folder (`--nproc` picks one by itself)",
    );
  }
  const out = (opts.out as string | undefined) ?? defaultOut(config);
  checkOutFolder("--out", out);
  // torchrun sets it for every rendezvous (the agent's store or --standalone's c10d one)
  const attempt = Number(Deno.env.get("TORCHELASTIC_RESTART_COUNT") ?? "0");
  const restart = distributed && attempt >= 1 ? attempt : 0;
  const where = { out, restart, flag: "--out" as const };
  return restart
    ? { intent: "restart", config, settings, ...where }
    : { intent: "new", config, overwrite, ...where };
}

/** `--fork SRC[@EPOCH|@switch]`: a new run in --out from SRC's state after that epoch. */
function forkRequest(
  opts: Record<string, unknown>,
  settings: Partial<TrainConfig>,
  distributed: LaunchedRank | undefined,
): TrainRequest {
  const text = opts.fork as string;
  if (opts.config !== undefined) {
    throw new UsageError(
      `--fork takes its settings from ${shownPath(text)}; flags change them, --config does not`,
    );
  }
  if (distributed || opts.nproc !== undefined) {
    throw new UsageError(
      "--fork is made by one process: fork with --epochs set to the fork's epoch (nothing is " +
        "trained), then continue the new run data-parallel with --resume",
    );
  }
  const { source, at } = parseForkSource(text);
  if (source.trim() === "") throw new UsageError(`--fork "${text}": give a run folder`);
  cliPlanError("--fork", () => assertRunFolder(source));
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  const out = (opts.out as string | undefined) ??
    `runs/${basename(resolve(source))}-fork-${stamp}`;
  checkOutFolder("--out", out);
  return {
    intent: "fork",
    source,
    at,
    settings,
    overwrite: !!opts.force,
    out,
    restart: 0,
    flag: "--out",
  };
}

/** The planner's plan for `request`, its refusals as usage errors naming the flag. */
function planned(out: string, request: TrainRequest): RunPlan {
  return cliPlanError(request.flag, () => planRun(out, request));
}

/**
 * `f()`, with what the user asked for that the folder cannot take as a usage error (exit 2)
 * naming `flag`; a damaged checkpoint stays an error (exit 1).
 */
function cliPlanError<T>(flag: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RunPlanError && e.refusal === "bad-record") {
      throw new UsageError(`${flag}: ${cliMessage(e)}`, { cause: e });
    }
    const usage = e instanceof SettingError ||
      (e instanceof RunPlanError && e.refusal !== "unusable-checkpoint" &&
        e.refusal !== "source-busy");
    if (usage) throw new UsageError(`${flag} ${cliMessage(e)}`, { cause: e });
    throw e;
  }
}

/**
 * Starts `nproc` ranks, each running this command with --out (`out`, when this process picked
 * the folder) and no --nproc; waits for them and takes their exit code.
 */
async function launchRanks(nproc: number, out: string | null): Promise<void> {
  const args = withoutOption(Deno.args, "--nproc");
  if (out !== null) args.push("--out", out);
  const r = await launchLocalRanks({
    command: [...selfCommand(), ...args],
    nproc,
    threads: totalThreads(),
    env: { [LOCK_HOLDER_ENV]: String(Deno.pid) },
  });
  if (r.failure) console.error(`error: ${r.failure}`);
  Deno.exitCode = r.code;
}

/** A rank's training options and who started it. */
type LaunchedRank = DistributedTraining & Pick<DistributedEnv, "launcher">;

/**
 * This process's rank of data-parallel training, from what torchrun, Slurm or `--nproc` set
 * (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, ...); undefined for a single process.
 */
function distributedTraining(opts: Record<string, unknown>): LaunchedRank | undefined {
  let env: ReturnType<typeof distributedEnv>;
  try {
    env = distributedEnv();
  } catch (e) {
    throw new UsageError(`data-parallel training: ${cliMessage(e)}`);
  }
  if (env && opts.nproc !== undefined) {
    throw new UsageError(
      `--nproc starts the ranks itself; this process is already rank ${env.rank} of ` +
        `${env.worldSize} (set by ${env.launcher}): leave --nproc out`,
    );
  }
  if (!env || env.worldSize === 1) return undefined;
  return {
    ...env,
    timeoutMs: (opts.distTimeout as number) * 1000,
    bucketBytes: (opts.bucketMb as number) * 2 ** 20,
  };
}

/** `args` without `--name VALUE` / `--name=VALUE`. */
function withoutOption(args: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) i++;
    else if (!args[i].startsWith(`${name}=`)) out.push(args[i]);
  }
  return out;
}

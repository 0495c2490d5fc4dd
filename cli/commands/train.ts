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
import { resolveConfig } from "../train_config.ts";
import { flagName } from "../../src/train/config_fields.ts";
import { pct, runTraining } from "../training.ts";
import { defaultConfig, type TrainConfig } from "../../src/train/config.ts";
import { RunDir, type TrainerState } from "../../src/train/run_dir.ts";
import { LOCK_HOLDER_ENV, lockRunFolder, type RunFolderLock } from "../../src/train/run_lock.ts";
import { checkOutFolder, shownPath } from "../paths.ts";
import { hlgmCommand } from "../../src/util/command.ts";
import { fileURLToPath } from "node:url";
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

// deno-lint-ignore hlgm/max-function-lines -- issue 24: split along the run-folder planner
async function trainCommand(
  opts: Record<string, unknown>,
  flags: Record<string, unknown>,
  held: RunFolderLock[],
): Promise<void> {
  const distributed = distributedTraining(opts);
  // a rank of --nproc stops (as on SIGTERM, with the others) when its launcher is gone
  if (distributed) stopWhenLauncherGoes(() => Deno.kill(Deno.pid, "SIGTERM"));
  // torchrun restarting the ranks after a failure (--max_restarts) runs the same command again:
  // the run it started is continued from its last checkpoint, or started over without one
  const restart = torchrunRestart(opts, distributed);
  const restarted = restart?.resume;
  let resumeDir = restarted ?? opts.resume as string | undefined;
  let config: TrainConfig;
  let out: string;
  let extendTo: number | undefined;
  let overwrite = restart?.overwrite ?? false;
  // one writer per run folder, taken before anything in it is read to decide what to do; held
  // until the command ends (the ranks of --nproc write under their launcher's)
  const lock = (folder: string) => {
    if ((distributed?.rank ?? 0) === 0) held.push(lockRunFolder(folder, "train"));
  };
  if (resumeDir !== undefined) {
    if (!restarted && (opts.out !== undefined || opts.config !== undefined)) {
      throw new UsageError(
        `--resume continues ${shownPath(resumeDir)} in its folder with its saved settings; ` +
          `it takes no ${opts.out !== undefined ? "--out" : "--config"}`,
      );
    }
    if (resumeDir.trim() === "") throw new UsageError(`--resume "" is empty: give a run folder`);
    const dir = new RunDir(resumeDir);
    if (!dir.exists()) {
      throw new UsageError(
        `--resume ${shownPath(resumeDir)}: not a run folder (no readable config.json)`,
      );
    }
    lock(resumeDir);
    try {
      config = dir.readInfo().config;
    } catch (e) {
      throw new UsageError(`--resume: ${(e as Error).message}`);
    }
    // only --epochs may change (it extends the run); a flag equal to the saved value is fine
    const { epochs, ...others } = flags as Partial<TrainConfig>;
    // settings added since the run was saved compare as their defaults (the old behaviour)
    const saved = defaultConfig(config) as unknown as Record<string, unknown>;
    const changed = Object.entries(others)
      .filter(([k, v]) => JSON.stringify(saved[k]) !== JSON.stringify(v))
      .map(([k, v]) =>
        `--${flagName(k)} (saved ${JSON.stringify(saved[k] ?? null)}, given ${JSON.stringify(v)})`
      );
    if (changed.length) {
      throw new UsageError(
        `--resume continues ${resumeDir} with its saved settings; it cannot change ` +
          `${changed.join(", ")}; only --epochs can be raised`,
      );
    }
    out = resumeDir;
    // an unreadable last.json falls back to the newest checkpoint that loads (said here);
    // with none, --force starts the run over
    let last: TrainerState | null = null;
    let unusable: Error | null = null;
    try {
      const found = dir.lastCheckpoint();
      if (found?.note) console.error(`warning: ${found.note}`);
      last = found?.state ?? null;
    } catch (e) {
      unusable = e as Error;
    }
    if (unusable && !opts.force) {
      throw new Error(
        `${unusable.message}; add --force to start ${out} over with its saved settings`,
      );
    }
    if (epochs !== undefined && last && epochs <= last.epoch) {
      throw new UsageError(
        `--epochs ${epochs}: ${out} already has ${last.epoch} epochs done; give more to extend it`,
      );
    }
    extendTo = epochs;
    if (last && last.epoch >= (epochs ?? config.epochs)) {
      console.log(
        `${out} is complete (${last.epoch} of ${config.epochs} epochs): nothing to resume ` +
          `(\`--epochs N\` with N > ${last.epoch} extends it)`,
      );
      return;
    }
    if (epochs !== undefined) config = { ...config, epochs };
    if (!last) {
      if (!opts.force) {
        throw new UsageError(
          `--resume ${out}: the run has no checkpoint yet (it stopped before its first epoch ` +
            `ended), so there is nothing to continue; start it again with its flags, or add ` +
            `--force to start it over in ${out} with its saved settings`,
        );
      }
      resumeDir = undefined; // a fresh start in the same folder, with the saved settings
      overwrite = true;
    }
  } else {
    config = resolveConfig(flags, opts.config as string | undefined);
    if (distributed && opts.out === undefined) {
      throw new UsageError(
        "data-parallel training under a launcher needs --out: every rank must write to the " +
          "same folder (`--nproc` picks one by itself)",
      );
    }
    out = (opts.out as string | undefined) ?? defaultOut(config);
    checkOutFolder("--out", out);
    lock(out);
    const dir = new RunDir(out);
    if (dir.hasResults()) {
      if (!opts.force && !overwrite) {
        throw new UsageError(
          `--out ${out} already holds a run; continue it with \`${hlgmCommand()} train ` +
            `--resume ${out}\`, choose another --out, or add --force to train over it`,
        );
      }
      overwrite = true;
    }
  }
  const nproc = opts.nproc as number | undefined;
  const world = nproc ?? distributed?.worldSize ?? 1;
  if (config.batchSize % world !== 0) {
    throw new UsageError(
      `--batch-size ${config.batchSize} is the global batch: it must be a multiple of ` +
        (nproc ? `--nproc ${nproc}` : `the ${world} ranks`),
    );
  }
  if (nproc !== undefined && nproc > 1) {
    // this process only starts the ranks, each running this command with --out and no --nproc
    const args = withoutOption(Deno.args, "--nproc");
    if (resumeDir === undefined && opts.out === undefined) args.push("--out", out);
    // the ranks need this project's import map (deno.json) wherever they are started from
    const importMap = new URL("../../deno.json", import.meta.url);
    const r = await launchLocalRanks({
      command: [
        Deno.execPath(),
        "run",
        "-A",
        ...(importMap.protocol === "file:" ? ["--config", fileURLToPath(importMap)] : []),
        fileURLToPath(Deno.mainModule),
        ...args,
      ],
      nproc,
      threads: totalThreads(),
      env: { [LOCK_HOLDER_ENV]: String(Deno.pid) },
    });
    if (r.failure) console.error(`error: ${r.failure}`);
    Deno.exitCode = r.code;
    return;
  }
  const result = await runTraining(config, out, {
    resume: !!resumeDir,
    epochs: extendTo,
    overwrite,
    distributed,
  });
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
    throw new UsageError(`data-parallel training: ${(e as Error).message}`);
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

/**
 * What to do in --out when torchrun restarted the ranks (TORCHELASTIC_RESTART_COUNT >= 1):
 * continue the run from its last checkpoint, or, when the first attempt left results but no
 * checkpoint that loads, start it over; undefined when not restarted (or nothing is there).
 */
function torchrunRestart(
  opts: Record<string, unknown>,
  distributed: LaunchedRank | undefined,
): { resume?: string; overwrite?: boolean } | undefined {
  // torchrun sets it for every rendezvous (the agent's store or --standalone's c10d one)
  const attempt = Number(Deno.env.get("TORCHELASTIC_RESTART_COUNT") ?? "0");
  if (!distributed || !(attempt >= 1)) return undefined;
  if (opts.resume !== undefined || typeof opts.out !== "string") return undefined;
  const dir = new RunDir(opts.out);
  let last: TrainerState | null = null;
  try {
    last = dir.exists() ? dir.lastCheckpoint()?.state ?? null : null;
  } catch { /* nothing that loads */ }
  const say = (text: string) => {
    if (distributed.rank === 0) console.error(`torchrun restart ${attempt}: ${text}`);
  };
  if (last) {
    say(`continuing ${opts.out} after epoch ${last.epoch}`);
    return { resume: opts.out };
  }
  if (!dir.hasResults()) return undefined;
  say(`${opts.out} has no checkpoint that loads: starting the run over`);
  return { overwrite: true };
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

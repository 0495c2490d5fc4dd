/**
 * `hlgm compare`: trains every method x seed with the same settings (reusing finished runs,
 * resuming stopped ones), prints Table II (and Table III on datasets with boxes), and writes
 * compare.json, compare.md and the plots. The work is src/runs/compare.ts; this file parses
 * and prints. A run that diverges is recorded as such, the others and the tables are finished,
 * and the exit code is 1 (0 with --keep-going).
 *
 * @module
 */

import type { CheckpointRule } from "../../src/run_folder/mod.ts";
import { UsageError } from "../errors.ts";
import { FLAG_VOCABULARY } from "../flag_vocabulary.ts";
import { withInterrupt } from "../interrupt.ts";
import { ProgressLine } from "../progress.ts";
import { resolveConfig } from "../train_config.ts";
import { parseSeeds } from "../run_args.ts";
import { checkOutFolder } from "../paths.ts";
import { compareMethods, type CompareResult } from "../../src/runs/compare.ts";
import { SIB_METHODS, type SibMethod } from "../../src/runs/sib.ts";
import { DEFAULT_SIB_N } from "../../src/runs/sib_defaults.ts";
import { DEFAULT_FAITH_N } from "../../src/runs/faith_defaults.ts";
import { scheduleOf, type TrainConfig } from "../../src/train/config.ts";
import { unreachableSwitch } from "../../src/train/schedule.ts";
import { presetWeightsWarning } from "../../src/train/presets.ts";
import type { Method } from "../../src/train/schedule.ts";
import { METHODS } from "../../src/train/config_fields.ts";

/** Parses "baseline,sgt,hlgm": distinct method names. */
function parseMethods(text: string): Method[] {
  const parts = text.split(",").map((s) => s.trim());
  const bad = parts.find((m) => !(METHODS as readonly string[]).includes(m));
  if (bad !== undefined) {
    throw new UsageError(
      `--methods: unknown method "${bad}"; expected a comma-separated list of ${
        METHODS.join(", ")
      }`,
    );
  }
  if (new Set(parts).size !== parts.length) {
    throw new UsageError(`--methods repeats a method: "${text}"`);
  }
  return parts as Method[];
}

/** Flags of `compare` besides the training flags. */
export interface CompareFlags {
  /** Comma-separated seeds (default 0,1,2). */
  seeds?: string;
  /** Comma-separated methods (default baseline,sgt,hlgm). */
  methods?: string;
  /** Output folder (default runs/compare-<dataset>-<model>). */
  out?: string;
  /** Test images for Table III, or "all" (default DEFAULT_SIB_N: all). */
  sibN?: number | "all";
  /** The checkpoint rule every run is scored on (default DEFAULT_SIB_CHECKPOINT). */
  checkpoint?: CheckpointRule;
  /** Attribution method for Table III and the faithfulness table. */
  sibMethod?: string;
  /** False with --no-faith: no faithfulness table. */
  faith?: boolean;
  /** Test images for the faithfulness table, or "all" (default DEFAULT_FAITH_N). */
  faithN?: number | "all";
  /** JSON settings file. */
  config?: string;
  /** Exit 0 even when a run diverged. */
  keepGoing?: boolean;
  /** False with --no-share: every baseline trains from scratch. */
  share?: boolean;
  /** Where SGT starts: "start" (from scratch) or "switch" (forked from HLGM's switch). */
  sgtFrom?: "start" | "switch";
}

/** `compare` command: returns what it computed (after printing the tables). */
export async function runCompare(
  opts: CompareFlags,
  flags: Record<string, unknown>,
): Promise<CompareResult> {
  const methods = parseMethods(opts.methods ?? METHODS.join(","));
  const seeds = parseSeeds(opts.seeds ?? "0,1,2");
  const sibN = opts.sibN ?? DEFAULT_SIB_N;
  if (sibN !== "all" && (!Number.isInteger(sibN) || sibN < 1)) {
    throw new UsageError(`--sib-n must be a positive integer or all, got "${opts.sibN}"`);
  }
  const faithN = opts.faithN ?? DEFAULT_FAITH_N;
  if (faithN !== "all" && (!Number.isInteger(faithN) || faithN < 1)) {
    throw new UsageError(`--faith-n must be a positive integer or all, got "${opts.faithN}"`);
  }
  const sibMethod = opts.sibMethod ?? "saliency";
  if (!(SIB_METHODS as readonly string[]).includes(sibMethod)) {
    throw new UsageError(
      `--sib-method: unknown method "${sibMethod}"; expected one of ${SIB_METHODS.join(", ")}`,
    );
  }
  const { method: _m, seed: _s, ...shared } = flags;
  // every configuration is checked before anything trains (usage errors exit 2)
  const base = resolveConfig({ ...shared, method: methods[0], seed: seeds[0] }, opts.config);
  for (const m of methods) for (const s of seeds) resolveConfig({ ...base, method: m, seed: s });
  if (methods.includes("hlgm")) {
    const hlgm = scheduleOf({ ...base, method: "hlgm" });
    const why = unreachableSwitch(hlgm, base.epochs, FLAG_VOCABULARY);
    if (why) console.error(`warning: hlgm: ${why}`);
  }
  const weights = presetWeightsWarning(base, FLAG_VOCABULARY);
  if (weights) console.error(`warning: ${weights}`);
  const { method: _bm, seed: _bs, ...common } = base;
  const out = opts.out ?? `runs/compare-${base.dataset}-${base.model}`;
  checkOutFolder("--out", out);
  console.log(
    `comparing ${methods.join(", ")} x seeds ${
      seeds.join(", ")
    }: ${base.model} on ${base.dataset}` +
      `${
        base.subset ? ` (subset ${base.subset})` : ""
      }, ${base.epochs} epochs, batch ${base.batchSize}, ` +
      `${base.optimizer} lr ${base.lr}, device ${base.device} -> ${out}`,
  );

  const progress = new ProgressLine();
  const result: CompareResult = await withInterrupt(progress, ({ stopping }) =>
    compareMethods({
      base: common as Partial<TrainConfig>,
      methods,
      seeds,
      out,
      sibN,
      faith: opts.faith !== false,
      faithN,
      checkpoint: opts.checkpoint,
      share: opts.share !== false,
      sgtFrom: opts.sgtFrom,
      sibMethod: sibMethod as SibMethod,
      shouldStop: stopping,
      onMessage: (s) => {
        progress.done();
        console.log(s);
      },
      hooks: (method, seed) => ({
        shouldStop: stopping,
        vocabulary: FLAG_VOCABULARY,
        onBatch: (p) =>
          progress.update(
            `${method} seed ${seed}: epoch ${p.epoch}/${p.epochs} ${p.plan.mode} batch ${p.batch}/${p.batches} ` +
              `loss ${p.loss.toFixed(4)} acc ${(100 * p.acc).toFixed(1)}%`,
            p.batch / p.batches,
          ),
        onEpoch: (m) => {
          progress.done();
          const k = m.k === null ? "" : ` k=${m.k.toFixed(2)}`;
          console.log(
            `  ${method} seed ${seed} epoch ${m.epoch}/${base.epochs} ${m.mode}${k}: train acc ${
              (100 * m.train_acc).toFixed(2)
            }%, test acc ${(100 * m.test_acc).toFixed(2)}%, ${m.seconds.toFixed(1)} s`,
          );
        },
      }),
    }));
  console.log("");
  console.log(result.text);
  console.log("");
  console.log(`wrote ${out}/compare.json, ${out}/compare.md and the plots in ${out}`);
  const diverged = result.runs.filter((r) => r.status === "diverged");
  if (diverged.length) {
    console.error(
      `${opts.keepGoing ? "warning: " : ""}${diverged.length} of ${result.runs.length} runs ` +
        `diverged (NaN/Inf loss): ${diverged.map((r) => `${r.method} seed ${r.seed}`).join(", ")}` +
        `; recorded as "diverged" in ${out}/compare.json` +
        (opts.keepGoing ? "" : " (--keep-going exits 0)"),
    );
    if (!opts.keepGoing) Deno.exitCode = 1;
  }
  return result;
}

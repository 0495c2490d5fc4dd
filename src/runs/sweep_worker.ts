/**
 * One run of a sweep in its own process (so runs go in parallel, each with its share of the
 * threads): `deno run -A sweep_worker.ts JOB.json`, where the job holds the config and the run
 * folder (planned again here, as the parent planned it: resumed or started). Each finished
 * epoch is printed as one JSON line on stdout for the parent's progress; SIGINT/SIGTERM stop the run at the next batch with its last
 * checkpoint kept. Exit code: 0 completed, 1 diverged or failed, 130 stopped.
 *
 * @module
 */

import type { TrainConfig } from "../train/config.ts";
import { runJob } from "./run_jobs.ts";
import { onStopSignals } from "../util/stop_signals.ts";
import { useVocabulary } from "../util/vocabulary.ts";
import { FLAG_VOCABULARY } from "../train/flag_vocabulary.ts";

/** What the parent hands a worker. */
export interface SweepJob {
  /** The run's full configuration. */
  config: TrainConfig;
  /** The run folder: its run is planned as the parent planned it (reused, resumed, started). */
  dir: string;
  /** Messages name flags (the parent runs under the CLI), not config keys. */
  flagWords: boolean;
}

/** The worker's exit code for each way a run ends. */
export const WORKER_EXIT = { completed: 0, diverged: 1, interrupted: 130 } as const;

async function work(jobFile: string): Promise<number> {
  const job: SweepJob = JSON.parse(Deno.readTextFileSync(jobFile));
  if (job.flagWords) useVocabulary(FLAG_VOCABULARY);
  let stop = false;
  onStopSignals(() => (stop = true)); // for the worker's whole life
  // planned again under the run folder's lock, which this process holds while it trains
  const r = await runJob(job.dir, job.config, {
    shouldStop: () => stop,
    onEpoch: (m) => console.log(JSON.stringify({ epoch: m.epoch, test_acc: m.test_acc })),
  });
  if (r.message) console.error(r.message);
  return WORKER_EXIT[r.trained ?? "completed"];
}

if (import.meta.main) {
  try {
    Deno.exit(await work(Deno.args[0]));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}

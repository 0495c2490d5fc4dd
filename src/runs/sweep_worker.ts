/**
 * One run of a sweep in its own process (so runs go in parallel, each with its share of the
 * threads): `deno run -A sweep_worker.ts JOB.json`, where the job holds the config and the run
 * folder (planned again here, as the parent planned it: resumed or started). Each finished
 * epoch is printed as one JSON line on stdout for the parent's progress; SIGINT/SIGTERM stop the
 * run at the next batch with its last checkpoint kept. Exit code: 0 completed, 1 diverged or
 * failed, 130 stopped. Run as this module, its messages name settings as the library does; the
 * CLI runs {@link runSweepJob} as its hidden `sweep-worker` command, with its flags' words.
 *
 * @module
 */

import type { TrainConfig } from "../train/config.ts";
import { runJob } from "./run_jobs.ts";
import { onStopSignals } from "../util/stop_signals.ts";
import { LIBRARY_VOCABULARY, messageIn, type Vocabulary } from "../util/vocabulary.ts";

/** What the parent hands a worker. */
export interface SweepJob {
  /** The run's full configuration. */
  config: TrainConfig;
  /** The run folder: its run is planned as the parent planned it (reused, resumed, started). */
  dir: string;
}

/** The worker's exit code for each way a run ends. */
export const WORKER_EXIT = { completed: 0, diverged: 1, interrupted: 130 } as const;

/**
 * Trains the job in `jobFile` as a sweep's worker does, its messages in `v`'s words; returns
 * the exit code ({@link WORKER_EXIT}; 1 for an error, printed on stderr).
 */
export async function runSweepJob(jobFile: string, v: Vocabulary): Promise<number> {
  try {
    const job: SweepJob = JSON.parse(Deno.readTextFileSync(jobFile));
    let stop = false;
    onStopSignals(() => (stop = true)); // for the worker's whole life
    // planned again under the run folder's lock, which this process holds while it trains
    const r = await runJob(job.dir, job.config, {
      shouldStop: () => stop,
      onEpoch: (m) => console.log(JSON.stringify({ epoch: m.epoch, test_acc: m.test_acc })),
      vocabulary: v,
    });
    if (r.message) console.error(r.message);
    return WORKER_EXIT[r.trained ?? "completed"];
  } catch (e) {
    console.error(`error: ${messageIn(e, v)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await runSweepJob(Deno.args[0], LIBRARY_VOCABULARY));

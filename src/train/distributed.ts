/**
 * The trainer's side of data-parallel training (DDP semantics on c10d, src/tensor/distributed.ts):
 * joining the group, starting every rank from rank 0's weights, averaging each step's gradients,
 * summing evaluation totals, and agreeing on a stop. Every rank runs the same epochs and steps on
 * its own shard of the data (DataLoader `shard`); the schedule is decided from metrics reduced
 * over the ranks, so the switch, episodes and k_t are the same everywhere; only rank 0 writes.
 *
 * @module
 */

import type { Module } from "../nn/module.ts";
import { tensor } from "../tensor/create.ts";
import { cat, stack } from "../tensor/functional.ts";
import { tidy } from "../tensor/engine.ts";
import {
  DEFAULT_BUCKET_BYTES,
  ProcessGroup,
  type ProcessGroupOptions,
} from "../tensor/distributed.ts";
import type { EvalSum, StepSync } from "./steps.ts";

/** Ten minutes: how long a rank waits for the others (rendezvous, each collective) by default. */
export const DEFAULT_DIST_TIMEOUT_MS = 10 * 60 * 1000;

/** This process's place in data-parallel training (see `distributedEnv()`) and its options. */
export interface DistributedTraining extends ProcessGroupOptions {
  /** The rank on this machine (picks the CUDA device: cuda:localRank). */
  localRank: number;
  /** Gradient bucket size in bytes (default 25 MiB, as DDP). */
  bucketBytes?: number;
}

/** A joined group and the trainer's operations on it. */
export class DataParallel {
  /** The process group (Gloo on the CPU, NCCL on CUDA). */
  readonly group: ProcessGroup;
  readonly #bucketBytes: number;
  /** What the current collective is for, named in a failure ("the gradient all-reduce"). */
  #doing = "joining the group";
  #where = "";

  /** Joins the group (blocks until every rank did, or the timeout). */
  constructor(d: DistributedTraining, device: string) {
    this.#bucketBytes = d.bucketBytes ?? DEFAULT_BUCKET_BYTES;
    this.group = this.#run(() =>
      ProcessGroup.init({ ...d, timeoutMs: d.timeoutMs ?? DEFAULT_DIST_TIMEOUT_MS, device })
    );
  }

  /** This process's rank. */
  get rank(): number {
    return this.group.rank;
  }
  /** Processes in the group. */
  get worldSize(): number {
    return this.group.worldSize;
  }

  /** Names the place in the run (for messages): "epoch 2, batch 3". */
  at(where: string): void {
    this.#where = where;
  }

  /** Runs a collective; a failure names the rank, what it was doing and where. */
  #run<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      const others = this.group
        ? (this.group.worldSize === 2 ? `rank ${1 - this.group.rank}` : "another rank")
        : "the other ranks";
      const rank = this.group ? `rank ${this.group.rank}` : "this rank";
      throw new DistributedError(
        `${rank} lost ${others} during ${this.#doing}${this.#where ? ` (${this.#where})` : ""}: ${
          (e as Error).message.split("\n")[0]
        }`,
        { cause: e },
      );
    }
  }

  /** Overwrites the model's parameters and buffers with rank 0's. */
  broadcastModel(model: Module): void {
    this.#doing = "the broadcast of rank 0's weights";
    tidy(() => {
      const tensors = [...model.stateDict().values()];
      this.#run(() => this.group.broadcast(tensors));
      // stateDict() gives the tensors themselves (no copies), so the model now holds rank 0's
    });
  }

  /** The step's hook: gradients averaged, statistics summed (see StepSync). */
  stepSync(): StepSync {
    return {
      worldSize: this.worldSize,
      averageGradients: (grads) => {
        this.#doing = "the gradient all-reduce";
        this.#run(() => this.group.allReduceMeanGradients(grads, this.#bucketBytes));
      },
      sum: (t) => {
        this.#doing = "the all-reduce of the step's loss";
        this.#run(() => this.group.allReduceSum([t]));
      },
    };
  }

  /** Evaluation totals summed over the ranks' shards. */
  evalSum(): EvalSum {
    return (totals) => {
      this.#doing = "the all-reduce of the evaluation";
      return tidy(() => {
        const t = tensor(totals, { dtype: "float64", device: this.group.device });
        this.#run(() => this.group.allReduceSum([t]));
        return Array.from(t.data() as Float64Array) as [number, number, number];
      });
    };
  }

  /** True when any rank's `flag` is (so every rank stops after the same batch). */
  any(flag: boolean): boolean {
    this.#doing = "agreeing on a stop";
    return tidy(() => {
      const t = tensor([flag ? 1 : 0], { dtype: "float64", device: this.group.device });
      this.#run(() => this.group.allReduceSum([t]));
      return (t.data() as Float64Array)[0] > 0;
    });
  }

  /**
   * Checks that every rank holds rank 0's weights (they should, bit for bit: the same averaged
   * gradients and the same optimizer state): a checksum of the parameters and buffers (sum and
   * sum of squares, in float64) is broadcast from rank 0 and compared; a rank that differs
   * fails with a DistributedError naming itself and `when`.
   */
  checkInSync(model: Module, when: string): void {
    this.#doing = "the check that the ranks' weights agree";
    const [mine, differs] = tidy(() => {
      const parts = [...model.stateDict().values()].filter((t) => t.dtype !== "int64")
        .map((t) => t.to("float64").flatten());
      const all = parts.length === 1 ? parts[0] : cat(parts);
      const sums = stack([all.sum(), all.square().sum()]).to(this.group.device);
      const theirs = sums.clone();
      this.#run(() => this.group.broadcast([theirs]));
      const a = sums.data() as Float64Array, b = theirs.data() as Float64Array;
      const differs = a[0] !== b[0] || a[1] !== b[1];
      const flag = tensor([differs ? 1 : 0], { dtype: "float64", device: this.group.device });
      this.#run(() => this.group.allReduceSum([flag]));
      return [[...a, ...b], (flag.data() as Float64Array)[0]];
    });
    if (differs > 0) {
      throw new DistributedError(
        mine[0] !== mine[2] || mine[1] !== mine[3]
          ? `rank ${this.rank}'s weights differ from rank 0's ${when} (checksum ${mine[0]}, ` +
            `${mine[1]} against ${mine[2]}, ${mine[3]})`
          : `the ranks' weights differ ${when}: ${differs} rank(s) hold other weights than rank 0`,
      );
    }
  }

  /** Leaves the group. */
  destroy(): void {
    this.group?.destroy();
  }
}

/** A collective failed: a rank died or stopped answering; the message says which and where. */
export class DistributedError extends Error {
  /** Wraps the c10d error with what the rank was doing. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DistributedError";
  }
}

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
import { isFloating } from "../tensor/dtype.ts";
import { crc32 } from "../util/bytes.ts";
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
   * Overwrites the model's floating-point buffers (BatchNorm's running statistics) with rank
   * 0's, as DDP's broadcast_buffers does: each rank updates them from its own share of the
   * batch. Nothing to do (no collective) for a model without such buffers.
   */
  syncBuffers(model: Module): void {
    const buffers = model.namedBuffers(false).map(([, b]) => b).filter((b) => isFloating(b.dtype));
    if (buffers.length === 0) return;
    this.#doing = "the broadcast of rank 0's batch-norm statistics";
    tidy(() => {
      const tensors = buffers.map((b) => b.detach());
      this.#run(() => this.group.broadcast(tensors));
    });
  }

  /**
   * Checks that every rank holds rank 0's weights, bit for bit (they should: the same averaged
   * gradients, the same optimizer state, buffers broadcast): a CRC-32 of each tensor's bytes,
   * so the check itself cannot differ between machines, is broadcast from rank 0 and compared.
   * A rank that differs fails with a DistributedError naming the first tensor that differs.
   */
  checkInSync(model: Module, when: string): void {
    this.#doing = "the check that the ranks' weights agree";
    const named = [...model.stateDict()];
    const mine = Float64Array.from(named, ([, t]) => crc32(t.bytes()));
    for (const [, t] of named) t.dispose();
    const [theirs, differing] = tidy(() => {
      const t = tensor(mine, { dtype: "float64", device: this.group.device });
      this.#run(() => this.group.broadcast([t]));
      const theirs = t.data() as Float64Array;
      const differs = theirs.some((v, i) => v !== mine[i]);
      const flag = tensor([differs ? 1 : 0], { dtype: "float64", device: this.group.device });
      this.#run(() => this.group.allReduceSum([flag]));
      return [theirs, (flag.data() as Float64Array)[0]];
    });
    if (differing === 0) return;
    const first = theirs.findIndex((v, i) => v !== mine[i]);
    throw new DistributedError(
      first >= 0
        ? `rank ${this.rank}'s weights differ from rank 0's ${when} (first: ${named[first][0]})`
        : `the ranks' weights differ ${when}: ${differing} rank(s) hold other weights than rank 0`,
    );
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

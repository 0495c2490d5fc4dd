/**
 * Data-parallel collectives over PyTorch's c10d (native/distributed.cpp): a process group
 * (a TCPStore rendezvous and Gloo on the CPU, or NCCL on CUDA), broadcast, all-reduce SUM, and
 * DDP-style bucketed gradient averaging; and {@link distributedEnv}, which reads what a launcher
 * (torchrun, Slurm, or a script setting RANK and friends) tells each process.
 *
 * Every collective blocks until all ranks took part. A rank that dies makes the others' next
 * collective fail (a killed peer within moments, a silent one after the group's timeout) with
 * a {@link TorchError}; the group is unusable from then on.
 *
 * @example
 * ```ts ignore
 * import { distributedEnv, ProcessGroup } from "./mod.ts";
 * const env = distributedEnv();
 * if (env) {
 *   using pg = ProcessGroup.init({ ...env, timeoutMs: 60_000 });
 *   pg.broadcast(model.parameters()); // every rank starts from rank 0's weights
 *   // ... after backward():
 *   pg.allReduceMeanGradients(grads);
 * }
 * ```
 *
 * @module
 */

import { check, lib } from "../../ffi/mod.ts";
import { type Device, deviceCode, deviceName } from "./device.ts";
import { OUT, OUT_BUF } from "./native.ts";
import type { Tensor } from "./tensor.ts";

/** DDP's default bucket size for gradient averaging: 25 MiB. */
export const DEFAULT_BUCKET_BYTES: number = 25 * 2 ** 20;

/** PyTorch's default process-group timeout: 30 minutes. */
export const DEFAULT_TIMEOUT_MS: number = 30 * 60 * 1000;

/** Whether the loaded shim was built with c10d and Gloo (see {@link distributedUnavailableReason}). */
export function distributedAvailable(): boolean {
  return lib.hlgm_dist_available() === 1;
}

/** Whether the loaded shim can make process groups on CUDA (NCCL). */
export function ncclAvailable(): boolean {
  return lib.hlgm_dist_nccl_available() === 1;
}

/** Why {@link distributedAvailable} would be false: what to install or rebuild. */
export function distributedUnavailableReason(): string {
  const p = lib.hlgm_dist_unavailable_reason();
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
}

/** How to make a {@link ProcessGroup}. {@link DistributedEnv} has these fields. */
export interface ProcessGroupOptions {
  /** This process's rank, 0..worldSize-1. */
  rank: number;
  /** Number of processes. */
  worldSize: number;
  /** Host of the rendezvous store (rank 0's, or torchrun's agent's). */
  masterAddr: string;
  /** Port of the rendezvous store. */
  masterPort: number;
  /** How long a rendezvous or a collective may wait for the other ranks (default 30 min). */
  timeoutMs?: number;
  /** "cpu" (Gloo, the default) or a CUDA device (NCCL; needs a shim built with NCCL). */
  device?: Device | string;
  /** A prefix for every key in the store (torchrun: "/worker/attempt_N"); default none. */
  prefix?: string;
  /**
   * Connect to the store as a client on every rank, rank 0 included: true when someone else
   * serves it (torchrun's agent, TORCHELASTIC_USE_AGENT_STORE=True). Default false: rank 0
   * serves it.
   */
  storeClientOnly?: boolean;
}

const encoder = new TextEncoder();
const cString = (s: string) => encoder.encode(`${s}\0`);

function handles(tensors: readonly Tensor[]): Uint8Array {
  return new Uint8Array(BigUint64Array.from(tensors, (t) => t.handle).buffer);
}

function wholeNumber(value: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
    throw new RangeError(`${what} is ${value}, expected an integer ${range}`);
  }
}

/**
 * A group of processes running collectives together (c10d's Gloo on the CPU, NCCL on CUDA).
 * Free it with {@link ProcessGroup.destroy} (or `using`).
 */
export class ProcessGroup implements Disposable {
  #handle: bigint;
  /** This process's rank. */
  readonly rank: number;
  /** Number of processes in the group. */
  readonly worldSize: number;
  /** The device the group's tensors live on. */
  readonly device: "cpu" | `cuda:${number}`;
  /** The rendezvous and collective timeout, in milliseconds. */
  readonly timeoutMs: number;

  private constructor(
    handle: bigint,
    o: Required<Omit<ProcessGroupOptions, "device">> & {
      device: "cpu" | `cuda:${number}`;
    },
  ) {
    this.#handle = handle;
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.device = o.device;
    this.timeoutMs = o.timeoutMs;
  }

  /**
   * Joins the group: connects to (rank 0: serves, unless `storeClientOnly`) the TCPStore at
   * masterAddr:masterPort and makes the process group. Blocks until every rank joined or the
   * timeout passed. Throws a TorchError saying what failed, or a JS error for bad options.
   */
  static init(options: ProcessGroupOptions): ProcessGroup {
    const o = {
      timeoutMs: DEFAULT_TIMEOUT_MS,
      device: "cpu",
      prefix: "",
      storeClientOnly: false,
      ...options,
    };
    wholeNumber(o.worldSize, "worldSize", 1);
    wholeNumber(o.rank, "rank", 0, o.worldSize - 1);
    wholeNumber(o.masterPort, "masterPort", 1, 65535);
    wholeNumber(o.timeoutMs, "timeoutMs", 1);
    if (typeof o.masterAddr !== "string" || o.masterAddr === "") {
      throw new TypeError("masterAddr is empty, expected a host name or address");
    }
    if (!distributedAvailable()) {
      throw new Error(`ProcessGroup.init: ${distributedUnavailableReason()}`);
    }
    const device = deviceCode(o.device);
    const err = lib.hlgm_dist_init(
      cString(o.masterAddr),
      o.masterPort,
      o.rank,
      o.worldSize,
      cString(o.prefix),
      o.storeClientOnly ? 1 : 0,
      BigInt(o.timeoutMs),
      device,
      OUT_BUF,
    );
    check(err, "ProcessGroup.init");
    return new ProcessGroup(OUT[0], { ...o, device: deviceName(device) });
  }

  get #live(): bigint {
    if (this.#handle === 0n) throw new Error("the process group was destroyed");
    return this.#handle;
  }

  /**
   * Overwrites every tensor with rank `root`'s, in place (e.g. the parameters, once, so every
   * rank starts alike). Every rank passes the same list of shapes and dtypes (checked).
   */
  broadcast(tensors: readonly Tensor[], root = 0): void {
    wholeNumber(root, "root", 0, this.worldSize - 1);
    check(
      lib.hlgm_dist_broadcast(this.#live, handles(tensors), tensors.length, root),
      "broadcast",
    );
  }

  /** Replaces every tensor with its sum over the ranks, in place (e.g. metric sums). */
  allReduceSum(tensors: readonly Tensor[]): void {
    check(
      lib.hlgm_dist_all_reduce_sum(this.#live, handles(tensors), tensors.length),
      "allReduceSum",
    );
  }

  /**
   * Replaces every (gradient) tensor with its mean over the ranks, in place, as DDP does:
   * consecutive tensors of one dtype are flattened into buckets of at most `bucketBytes`
   * (a larger tensor is a bucket of its own), each bucket summed over the ranks in one call,
   * divided by the world size and copied back.
   */
  allReduceMeanGradients(tensors: readonly Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES): void {
    wholeNumber(bucketBytes, "bucketBytes", 1);
    check(
      lib.hlgm_dist_all_reduce_mean(
        this.#live,
        handles(tensors),
        tensors.length,
        BigInt(bucketBytes),
      ),
      "allReduceMeanGradients",
    );
  }

  /** Waits until every rank reached this call. */
  barrier(): void {
    check(lib.hlgm_dist_barrier(this.#live), "barrier");
  }

  /** Whether {@link ProcessGroup.destroy} was called. */
  get destroyed(): boolean {
    return this.#handle === 0n;
  }

  /** Leaves the group and frees it (rank 0 stops serving the store). Idempotent. */
  destroy(): void {
    const h = this.#handle;
    if (h === 0n) return;
    this.#handle = 0n;
    lib.hlgm_dist_destroy(h);
  }

  /** Same as {@link ProcessGroup.destroy}. */
  [Symbol.dispose](): void {
    this.destroy();
  }
}

/** How to serve a {@link RendezvousStore}. */
export interface RendezvousStoreOptions {
  /** Number of ranks that will connect. */
  worldSize: number;
  /** The port to serve on; 0 (the default) lets the system pick a free one. */
  port?: number;
  /** How long a rank's store operation may wait (default 30 min). */
  timeoutMs?: number;
}

/**
 * A rendezvous store (c10d's TCPStore) served by this process for ranks that all connect to it
 * as clients (`storeClientOnly: true`), as torchrun's agent serves one. A launcher serves it on a
 * port the system picks and holds that port until {@link RendezvousStore.close}: no other process
 * can take it between the launcher's choice and the ranks' rendezvous (a port found free and
 * released again could be). It listens on every interface, as PyTorch's store does.
 *
 * @example
 * ```ts ignore
 * using store = RendezvousStore.serve({ worldSize: 2 });
 * // start two ranks with MASTER_ADDR=127.0.0.1, MASTER_PORT=store.port; each one calls
 * // ProcessGroup.init({ rank, worldSize: 2, masterAddr: "127.0.0.1", masterPort: store.port,
 * //   storeClientOnly: true })
 * ```
 */
export class RendezvousStore implements Disposable {
  #handle: bigint;
  /** The port the store listens on. */
  readonly port: number;

  private constructor(handle: bigint, port: number) {
    this.#handle = handle;
    this.port = port;
  }

  /** Starts serving; returns at once (the ranks connect later). Throws a TorchError if it cannot. */
  static serve(options: RendezvousStoreOptions): RendezvousStore {
    const o = { port: 0, timeoutMs: DEFAULT_TIMEOUT_MS, ...options };
    wholeNumber(o.worldSize, "worldSize", 1);
    wholeNumber(o.port, "port", 0, 65535);
    wholeNumber(o.timeoutMs, "timeoutMs", 1);
    if (!distributedAvailable()) {
      throw new Error(`RendezvousStore.serve: ${distributedUnavailableReason()}`);
    }
    const port = new Int32Array(1);
    check(
      lib.hlgm_dist_store_serve(o.port, o.worldSize, BigInt(o.timeoutMs), OUT_BUF, port),
      "RendezvousStore.serve",
    );
    return new RendezvousStore(OUT[0], port[0]);
  }

  /** Whether {@link RendezvousStore.close} was called. */
  get closed(): boolean {
    return this.#handle === 0n;
  }

  /** Stops serving and frees the port. Idempotent. */
  close(): void {
    const h = this.#handle;
    if (h === 0n) return;
    this.#handle = 0n;
    lib.hlgm_dist_store_destroy(h);
  }

  /** Same as {@link RendezvousStore.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Set to "1" by a launcher that serves the rendezvous store itself at MASTER_ADDR:MASTER_PORT
 * (a {@link RendezvousStore}; `hlgm train --nproc` does): every rank connects as a client.
 */
export const LAUNCHER_STORE_ENV = "HLGM_LAUNCHER_STORE";

/** What a launcher told this process, as {@link distributedEnv} reads it. */
export interface DistributedEnv extends ProcessGroupOptions {
  /**
   * Where the values came from: torchrun (its agent serves the store), `hlgm train --nproc`
   * (the launcher serves the store), RANK/WORLD_SIZE set otherwise, Slurm.
   */
  launcher: "torchrun" | "hlgm" | "env" | "slurm";
  /** This process's rank on its node (LOCAL_RANK / SLURM_LOCALID; default: the rank). */
  localRank: number;
  /** See {@link ProcessGroupOptions.prefix}. */
  prefix: string;
  /** See {@link ProcessGroupOptions.storeClientOnly}. */
  storeClientOnly: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

function envInt(env: Env, name: string, min: number, max?: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") throw new Error(`${name} is not set`);
  const value = raw.trim();
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  const expected = min === 1 ? "a positive integer" : "a non-negative integer";
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`${name} is ${JSON.stringify(raw)}, expected ${expected}`);
  }
  if (max !== undefined && n > max) {
    throw new Error(`${name} is ${JSON.stringify(raw)}, expected ${expected} up to ${max}`);
  }
  return n;
}

function set(env: Env, name: string): boolean {
  return env[name] !== undefined && env[name]!.trim() !== "";
}

/**
 * Reads how this process was launched for data-parallel training, or returns undefined when it
 * was not (a single process):
 *
 * - RANK / WORLD_SIZE (torchrun, or set by hand): RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
 *   are required, LOCAL_RANK optional. With TORCHELASTIC_USE_AGENT_STORE=True (torchrun) the
 *   agent serves the store: every rank connects as a client, keys under
 *   "/worker/attempt_<TORCHELASTIC_RESTART_COUNT>" as PyTorch's own rendezvous does. With
 *   HLGM_LAUNCHER_STORE=1 (`hlgm train --nproc`, {@link LAUNCHER_STORE_ENV}) the launcher serves
 *   it: every rank connects as a client.
 * - otherwise Slurm (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID) when SLURM_NTASKS > 1 or
 *   MASTER_ADDR is set; MASTER_ADDR and MASTER_PORT are still required (srun sets neither).
 *
 * Throws an error naming the variable that is missing or malformed, e.g.
 * `WORLD_SIZE is "x", expected a positive integer`.
 */
export function distributedEnv(
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
): DistributedEnv | undefined {
  let launcher: DistributedEnv["launcher"];
  let rank: number;
  let worldSize: number;
  let localRank: number;
  if (set(env, "RANK") || set(env, "WORLD_SIZE")) {
    worldSize = envInt(env, "WORLD_SIZE", 1);
    rank = envInt(env, "RANK", 0);
    launcher = env.TORCHELASTIC_USE_AGENT_STORE === "True"
      ? "torchrun"
      : env[LAUNCHER_STORE_ENV] === "1"
      ? "hlgm"
      : "env";
    localRank = set(env, "LOCAL_RANK") ? envInt(env, "LOCAL_RANK", 0) : rank;
  } else if (
    (set(env, "SLURM_NTASKS") || set(env, "SLURM_PROCID")) &&
    (set(env, "MASTER_ADDR") || (set(env, "SLURM_NTASKS") && env.SLURM_NTASKS!.trim() !== "1"))
  ) {
    worldSize = envInt(env, "SLURM_NTASKS", 1);
    rank = envInt(env, "SLURM_PROCID", 0);
    launcher = "slurm";
    localRank = set(env, "SLURM_LOCALID") ? envInt(env, "SLURM_LOCALID", 0) : rank;
  } else {
    return undefined;
  }
  const rankName = launcher === "slurm" ? "SLURM_PROCID" : "RANK";
  const sizeName = launcher === "slurm" ? "SLURM_NTASKS" : "WORLD_SIZE";
  if (rank >= worldSize) {
    throw new Error(
      `${rankName} is ${rank}, expected 0..${worldSize - 1} (${sizeName} is ${worldSize})`,
    );
  }
  const masterAddr = env.MASTER_ADDR?.trim() ?? "";
  if (masterAddr === "") {
    throw new Error(
      `MASTER_ADDR is not set (${rankName} and ${sizeName} are): the host of rank 0's store`,
    );
  }
  if (!set(env, "MASTER_PORT")) {
    throw new Error(`MASTER_PORT is not set (${rankName} and ${sizeName} are)`);
  }
  const masterPort = envInt(env, "MASTER_PORT", 1, 65535);
  let prefix = "";
  let storeClientOnly = false;
  if (launcher === "torchrun") {
    if (!set(env, "TORCHELASTIC_RESTART_COUNT")) {
      throw new Error(
        "TORCHELASTIC_RESTART_COUNT is not set (TORCHELASTIC_USE_AGENT_STORE is True)",
      );
    }
    const attempt = envInt(env, "TORCHELASTIC_RESTART_COUNT", 0);
    prefix = `/worker/attempt_${attempt}`;
    storeClientOnly = true;
  }
  if (launcher === "hlgm") storeClientOnly = true;
  return { launcher, rank, worldSize, localRank, masterAddr, masterPort, prefix, storeClientOnly };
}

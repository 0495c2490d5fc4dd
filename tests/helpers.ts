/**
 * Shared test helpers: the device the suite runs on and a tolerant numeric comparison.
 *
 * Run the suite on a GPU with `HLGM_TEST_DEVICE=cuda deno test -A tests/`.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import { encodeIdx } from "../src/data/idx.ts";
import assert from "node:assert/strict";
import type { Device, NestedArray, ScheduleConfig, Tensor } from "../mod.ts";

/** The device every test creates its tensors on ("cpu" unless HLGM_TEST_DEVICE is set). */
export const device: Device = (Deno.env.get("HLGM_TEST_DEVICE") ?? "cpu") as Device;

/** True when the suite runs on the CPU (some checks only make sense there). */
export const onCpu: boolean = device === "cpu";

/** Tolerances of `assertClose`: |a - e| <= atol + rtol * |e|. */
export interface CloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Prefix for the failure message. */
  message?: string;
}

type Numeric = NestedArray | ArrayLike<number | bigint> | bigint;

function shapeOf(v: unknown): number[] {
  const shape: number[] = [];
  let x = v;
  while (Array.isArray(x) || ArrayBuffer.isView(x)) {
    const arr = x as ArrayLike<unknown>;
    shape.push(arr.length);
    x = arr.length > 0 ? arr[0] : undefined;
  }
  return shape;
}

function flat(v: unknown, out: number[]): number[] {
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    for (const x of Array.from(v as ArrayLike<unknown>)) flat(x, out);
  } else if (typeof v === "number") {
    out.push(v);
  } else if (typeof v === "bigint") {
    out.push(Number(v));
  } else if (typeof v === "boolean") {
    out.push(v ? 1 : 0);
  } else {
    throw new TypeError(`assertClose: not a number: ${String(v)}`);
  }
  return out;
}

function indexOf(flatIndex: number, shape: number[]): string {
  if (shape.length === 0) return "[]";
  const idx: number[] = [];
  let rest = flatIndex;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return `[${idx.join(", ")}]`;
}

/**
 * Asserts that two numbers or nested arrays (or typed arrays) have the same shape and
 * elementwise |actual - expected| <= atol + rtol * |expected|. NaN matches NaN; infinities must
 * be equal. The message names the first mismatching index, the worst error and the count.
 */
export function assertClose(
  actual: Numeric | Tensor,
  expected: Numeric,
  options: CloseOptions = {},
): void {
  const { rtol = 1e-5, atol = 1e-6 } = options;
  const prefix = options.message ? `${options.message}: ` : "";
  const a = isTensor(actual) ? actual.toArray() : actual;
  const sa = shapeOf(a);
  const se = shapeOf(expected);
  assert.deepEqual(
    sa,
    se,
    `${prefix}shape mismatch: actual [${sa.join(", ")}] vs expected [${se.join(", ")}]`,
  );
  const fa = flat(a, []);
  const fe = flat(expected, []);
  assert.equal(fa.length, fe.length, `${prefix}element count ${fa.length} vs ${fe.length}`);
  let bad = 0;
  let first = -1;
  let worst = 0;
  for (let i = 0; i < fa.length; i++) {
    const x = fa[i];
    const y = fe[i];
    let ok: boolean;
    if (Number.isNaN(y)) ok = Number.isNaN(x);
    else if (!Number.isFinite(y)) ok = x === y;
    else ok = Math.abs(x - y) <= atol + rtol * Math.abs(y);
    if (!ok) {
      bad++;
      if (first < 0) first = i;
      const err = Math.abs(x - y);
      if (!(err <= worst)) worst = err;
    }
  }
  if (bad > 0) {
    const at = indexOf(first, se);
    assert.fail(
      `${prefix}${bad} of ${fa.length} elements differ (rtol=${rtol}, atol=${atol}); ` +
        `first at ${at}: actual ${fa[first]}, expected ${fe[first]}; max abs error ${worst}`,
    );
  }
}

function isTensor(v: unknown): v is Tensor {
  return typeof v === "object" && v !== null && "toArray" in v && "handle" in v;
}

/**
 * A Fashion-MNIST folder (gzipped idx files) of small items: class k is a filled shape whose
 * width depends on k, at a place that varies by image. The cluttered generator puts them on a
 * 64x64 canvas with exact boxes.
 */
export function writeFakeFashionMnist(root: string, nTrain = 300, nTest = 100): void {
  const dir = `${root}/fashion-mnist`;
  Deno.mkdirSync(dir, { recursive: true });
  for (const [prefix, n] of [["train", nTrain], ["t10k", nTest]] as const) {
    const img = new Uint8Array(n * 784);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const k = (i * 7 + (prefix === "train" ? 0 : 3)) % 10;
      labels[i] = k;
      const w = 4 + 2 * (k % 5), h = k < 5 ? 14 : 8;
      const ox = 2 + (i % 5), oy = 3 + ((i * 3) % 7);
      for (let y = oy; y < oy + h; y++) {
        for (let x = ox; x < ox + w; x++) {
          img[i * 784 + y * 28 + x] = 120 + ((x * 13 + y * 7) % 130);
        }
      }
    }
    Deno.writeFileSync(
      `${dir}/${prefix}-images-idx3-ubyte.gz`,
      gzipSync(encodeIdx([n, 28, 28], img)),
    );
    Deno.writeFileSync(`${dir}/${prefix}-labels-idx1-ubyte.gz`, gzipSync(encodeIdx([n], labels)));
  }
}

/** What a CLI run printed and its exit code. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** A data root that does not exist: the CLI finds no dataset unless told where. */
export const NO_DATA: Record<string, string> = {
  HLGM_DATA: "/nonexistent/hlgm-data",
  NO_COLOR: "1",
};

/** Runs `deno run -A cli/main.ts ARGS` in a child process with `env` added to this one's. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const main = new URL("../cli/main.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A CLI child process whose output is read line by line as it comes. */
export interface Child {
  /** The process (send it signals with `process.kill`). */
  process: Deno.ChildProcess;
  /** Resolves with the first line of stdout or stderr matching `pattern`. */
  waitFor: (pattern: RegExp) => Promise<string>;
  /** All of stdout and stderr once the process ends, and its exit code. */
  finish: () => Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * Starts `deno run -A cli/main.ts ARGS` as a child process (one thread, no colour, `env`
 * added), reading its output as it comes.
 */
export function spawnCli(args: string[], env: Record<string, string> = {}): Child {
  const main = new URL("../cli/main.ts", import.meta.url).pathname;
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    env: { HLGM_NUM_THREADS: "1", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { stdout: [] as string[], stderr: [] as string[] };
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  const read = async (stream: ReadableStream<Uint8Array>, lines: string[]) => {
    let pending = "";
    const take = (line: string) => {
      lines.push(line);
      for (const w of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    };
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (pending + text).split("\n");
      pending = parts.pop() ?? "";
      parts.forEach(take);
    }
    if (pending) take(pending);
  };
  const done = Promise.all([read(process.stdout, out.stdout), read(process.stderr, out.stderr)]);
  return {
    process,
    waitFor: (pattern) => {
      const seen = [...out.stdout, ...out.stderr].find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
    finish: async () => {
      const { code } = await process.status;
      await done;
      return { code, stdout: out.stdout.join("\n"), stderr: out.stderr.join("\n") };
    },
  };
}

/**
 * `program`'s output, or null when it is not installed. (Deno.Command's output() throws
 * NotFound synchronously for a missing program, before any promise exists to catch it.)
 */
export async function outputIfInstalled(
  program: string,
  options: Deno.CommandOptions = {},
): Promise<Deno.CommandOutput | null> {
  try {
    return await new Deno.Command(program, options).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** An HLGM schedule at the paper's masking settings (S = 3, de = 1, patience 20), with `over`. */
export function hlgmSchedule(over: Partial<ScheduleConfig> = {}): ScheduleConfig {
  return {
    method: "hlgm",
    kBottom: 0.5,
    kTop: 0.2,
    alpha: 0.02,
    episodeSize: 3,
    de: 1,
    patience: 20,
    monitor: "val_acc",
    ...over,
  };
}

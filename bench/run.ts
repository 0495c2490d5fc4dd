/**
 * The benchmark suite (`deno task bench`): FFI overhead per op, a shallow-CNN training step
 * and forward + backward of every model (shallow-cnn, resnet18, deit-tiny), each in hlgm vs
 * PyTorch. Prints one JSON document on stdout; progress goes to stderr. See bench/README.md
 * for what is measured.
 *
 *   deno run -A bench/run.ts [--only ffi,shallow_cnn,models,loader,saliency,epochs,estimate,dist,
 *     precision,cifar_epoch,faith] (cifar_epoch and faith run only when named)
 *     [--device cpu|cuda|cuda:N]
 *     [--quick] [--steps N] [--warmup N] [--batch N] [--rounds N]
 *     [--models shallow-cnn,resnet18,deit-tiny] [--model-batch N] [--model-steps N]
 *     [--model-warmup N] [--model-rounds N] [--precision-steps N] [--precision-rounds N]
 *     [--no-pytorch]
 *
 * --steps, --warmup, --batch and --rounds apply to the shallow-CNN training step: --steps is
 * the total of timed steps per variant, split over --rounds rounds; each round starts every
 * variant once as a fresh process (warmup steps each time). The --model-* flags apply to the
 * models benchmark in the same way (defaults: batch 64, 1 round; 20 steps after 3 warmup for
 * shallow-cnn, 5 after 2 for the others).
 *
 * Environment: HLGM_BENCH_PYTHON picks the python that runs the PyTorch side (default: the
 * first of `python3`, `/usr/bin/python3` that imports torch); HLGM_NUM_THREADS sets the
 * thread count of both sides (default: the number of cores).
 *
 * @module
 */

import { getNumThreads, info, setDefaultDevice } from "../mod.ts";
import { measureFfi } from "./ffi_overhead.ts";
import { MODEL_CONFIGS } from "./model_step.ts";
import { findPython, flag, median, round } from "./util.ts";

/**
 * glibc tunables that keep freed memory in the heap: PyTorch's fastest CPU setting here (glibc's
 * defaults unmap a large freed block and fault it in again every step). hlgm keeps its large
 * blocks with its own caching allocator instead (native/cpu_cache.cpp), which does not fragment.
 */
const KEPT_MALLOC = {
  MALLOC_MMAP_MAX_: "0",
  MALLOC_TRIM_THRESHOLD_: String(1 << 30),
  MALLOC_TOP_PAD_: String(64 << 20),
};

const SECTIONS = [
  "ffi",
  "shallow_cnn",
  "models",
  "loader",
  "saliency",
  "epochs",
  "estimate",
  "dist",
  "precision",
  "cifar_epoch",
  "faith",
] as const;
/** Sections a plain `deno task bench` leaves out (minutes each): `--only` names them. */
const OPT_IN: readonly string[] = ["cifar_epoch", "faith"];
const MODELS = Object.keys(MODEL_CONFIGS);

const args = Deno.args;
const quick = args.includes("--quick");
const device = flag(args, "device") ?? "cpu";
const log = (msg: string) => console.error(`[bench] ${msg}`);
const here = (file: string) => new URL(file, import.meta.url).pathname;

function fail(msg: string, code = 1): never {
  console.error(`bench: ${msg}`);
  Deno.exit(code);
}

/** A comma-separated list flag, checked against `allowed`. */
function listFlag(name: string, allowed: readonly string[]): string[] {
  const value = flag(args, name);
  if (value === undefined) return [...allowed];
  const items = value.split(",").map((s) => s.trim()).filter((s) => s);
  const unknown = items.filter((s) => !allowed.includes(s));
  if (unknown.length || !items.length) {
    fail(`--${name}: unknown "${unknown.join(",") || value}"; expected ${allowed.join(",")}`, 2);
  }
  return items;
}

/** A positive integer flag, or `fallback`. */
function intFlag(name: string, fallback: number, min = 1): number {
  const value = flag(args, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name}: expected an integer >= ${min}`, 2);
  return n;
}

const only = new Set(
  flag(args, "only") === undefined
    ? SECTIONS.filter((s) => !OPT_IN.includes(s))
    : listFlag("only", SECTIONS),
);
const models = listFlag("models", MODELS);
const rounds = intFlag("rounds", quick ? 1 : 2);
const steps = intFlag("steps", quick ? 3 : 20);
const threads = String(getNumThreads());

try {
  setDefaultDevice(device); // fails clearly when CUDA is asked for and absent
  setDefaultDevice("cpu");
} catch (e) {
  fail((e as Error).message);
}

/** The environment without malloc tunables, plus `extra`. */
function env(extra: Record<string, string>): Record<string, string> {
  const base = Object.entries(Deno.env.toObject()).filter(([k]) =>
    k !== "HLGM_MALLOC" && !k.startsWith("MALLOC_")
  );
  return { ...Object.fromEntries(base), ...extra };
}

/** Runs a command that prints one JSON object; stderr passes through. */
async function runJson(cmd: string, argv: string[], vars: Record<string, string>) {
  const out = await new Deno.Command(cmd, {
    args: argv,
    env: env(vars),
    clearEnv: true,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${cmd} ${argv.join(" ")} exited with ${out.code}`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

function cpuModel(): string | null {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? null;
  } catch {
    return null;
  }
}

function loadAvg(): string | null {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return null;
  }
}

const hlgm = info();
const machine = {
  os: Deno.build.os,
  arch: Deno.build.arch,
  cpus: navigator.hardwareConcurrency,
  cpu_model: cpuModel(),
  deno: Deno.version.deno,
  v8: Deno.version.v8,
  hlgm: hlgm.version,
  libtorch: hlgm.libtorchVersion,
  libtorch_lib_dir: hlgm.libtorchLibDir ?? null,
  cuda_devices: hlgm.cudaDeviceCount,
  // The convolution self-check (once per process, before the first conv): outcome and cost.
  onednn: hlgm.kernelCheck.onednnEnabled,
  kernel_check: hlgm.kernelCheck.decision,
  kernel_check_ms: round(hlgm.kernelCheck.ms, 1),
  gpu: null as string | null,
  load_avg_start: loadAvg(),
  load_avg_end: null as string | null,
};

/** One measured configuration: a command run once per round. */
interface Variant {
  name: string;
  cmd: string;
  argv: string[];
  vars: Record<string, string>;
  runs: StepRun[];
}
interface StepRun {
  ms_per_step: number;
  times_ms: number[];
  peak_rss_bytes: number | null;
  [key: string]: unknown;
}

const explicitPython = Deno.env.get("HLGM_BENCH_PYTHON");
/** What the PyTorch side is: its python, version, lib dir, threads; or why it is absent. */
let pytorch: Record<string, unknown> | string = explicitPython
  ? `not found (HLGM_BENCH_PYTHON=${explicitPython} cannot import torch)`
  : "not found";
const noPytorch = args.includes("--no-pytorch");
const python = noPytorch ||
    !(only.has("shallow_cnn") || only.has("models") || only.has("precision"))
  ? null
  : await findPython();
if (noPytorch) pytorch = "skipped (--no-pytorch)";

/** Records what a successful PyTorch run says about itself. */
function notePytorch(run: StepRun): void {
  if (typeof pytorch === "object") return;
  pytorch = {
    python,
    version: run.torch,
    torch_lib_dir: run.torch_lib_dir ?? null,
    threads: run.threads,
  };
  machine.gpu = (run.gpu as string | null) ?? null;
}

/** The PyTorch variants (default malloc, kept malloc) of a script, if there is a python. */
function pytorchVariants(script: string, argv: string[]): Variant[] {
  if (!python) return [];
  const full = [here(script), ...argv];
  return [
    { name: "pytorch_default", cmd: python, argv: full, vars: {}, runs: [] },
    { name: "pytorch_kept_malloc", cmd: python, argv: full, vars: KEPT_MALLOC, runs: [] },
  ];
}

/**
 * Runs every variant once, in order. A failing PyTorch variant (e.g. a CPU-only torch with
 * --device cuda) drops the PyTorch variants and records why; a failing hlgm one throws.
 */
async function runVariants(label: string, variants: Variant[]): Promise<void> {
  for (const v of [...variants]) {
    if (!variants.includes(v)) continue;
    const vars = Object.entries(v.vars).map((e) => e.join("=")).join(" ");
    log(`${label}: ${v.name}${vars ? ` (${vars})` : ""}`);
    try {
      const r: StepRun = await runJson(v.cmd, v.argv, v.vars);
      v.runs.push(r);
      if (v.name.startsWith("pytorch")) notePytorch(r);
      log(`  ${r.ms_per_step.toFixed(1)} ms/step`);
    } catch (e) {
      if (!v.name.startsWith("pytorch")) throw e;
      pytorch = `failed: ${(e as Error).message}`;
      for (let i = variants.length - 1; i >= 0; i--) {
        if (variants[i].name.startsWith("pytorch")) variants.splice(i, 1);
      }
    }
  }
}

/** Median over all timed steps of all runs of `name`, in ms. */
function ms(variants: Variant[], name: string): number | null {
  const v = variants.find((v) => v.name === name && v.runs.length > 0);
  return v ? round(median(v.runs.flatMap((r) => r.times_ms))) : null;
}

/** Largest peak RSS over the runs of `name`, in MiB. */
function mb(variants: Variant[], name: string): number | null {
  const v = variants.find((v) => v.name === name && v.runs.length > 0);
  const peaks = v?.runs.map((r) => r.peak_rss_bytes ?? 0) ?? [];
  return peaks.length && Math.max(...peaks) > 0 ? round(Math.max(...peaks) / 2 ** 20, 1) : null;
}

/** Fastest timed step over all runs of `name`, in ms. */
function least(variants: Variant[], name: string): number | null {
  const v = variants.find((v) => v.name === name && v.runs.length > 0);
  return v ? round(Math.min(...v.runs.flatMap((r) => r.times_ms))) : null;
}

/** Median over the runs of `name` of their median CPU ms (all threads) per step. */
function cpu(variants: Variant[], name: string): number | null {
  const v = variants.find((v) => v.name === name && v.runs.length > 0);
  return v ? round(median(v.runs.map((r) => r.cpu_ms_per_step as number))) : null;
}

const ratio = (a: number | null, b: number | null) => (a && b ? round(a / b, 3) : null);

/** The shallow-CNN training step: hlgm (two malloc settings) vs PyTorch (two). */
async function shallowCnnStep() {
  const stepArgs = [
    "--device",
    device,
    "--steps",
    String(Math.ceil(steps / rounds)),
    "--warmup",
    String(intFlag("warmup", quick ? 1 : 3, 0)),
    "--batch",
    String(intFlag("batch", 256)),
    "--threads",
    threads,
  ];
  const denoArgv = ["run", "-A", here("./shallow_cnn_step.ts"), ...stepArgs];
  const variants: Variant[] = [
    { name: "deno", cmd: Deno.execPath(), argv: denoArgv, vars: {}, runs: [] },
    {
      name: "deno_default_malloc",
      cmd: Deno.execPath(),
      argv: denoArgv,
      vars: { HLGM_MALLOC: "default" },
      runs: [],
    },
    ...pytorchVariants("./shallow_cnn_step.py", stepArgs),
  ];
  // Rounds interleave the variants, so that load from elsewhere on the machine hits them alike.
  for (let n = 1; n <= rounds; n++) await runVariants(`shallow CNN step ${n}/${rounds}`, variants);

  const first = variants[0].runs[0];
  const t = (name: string) => ms(variants, name);
  return {
    device,
    batch: first.batch,
    steps: variants[0].runs.length * (first.steps as number),
    warmup: first.warmup,
    rounds,
    threads: first.threads,
    deno_ms: t("deno"),
    deno_default_malloc_ms: t("deno_default_malloc"),
    pytorch_default_ms: t("pytorch_default"),
    pytorch_kept_malloc_ms: t("pytorch_kept_malloc"),
    ratio_vs_pytorch_default: ratio(t("deno"), t("pytorch_default")),
    ratio_vs_pytorch_kept_malloc: ratio(t("deno"), t("pytorch_kept_malloc")),
    ratio_default_malloc_vs_pytorch_default: ratio(
      t("deno_default_malloc"),
      t("pytorch_default"),
    ),
    peak_rss_mb: {
      deno: mb(variants, "deno"),
      deno_default_malloc: mb(variants, "deno_default_malloc"),
      pytorch_default: mb(variants, "pytorch_default"),
      pytorch_kept_malloc: mb(variants, "pytorch_kept_malloc"),
    },
    kept_malloc_env: KEPT_MALLOC,
    pytorch,
  };
}

/** Throws when hlgm's and PyTorch's parameters differ in count, names or shapes. */
function checkParams(model: string, hlgmRun: StepRun, ptRun: StepRun): void {
  const shapes = (r: StepRun) =>
    new Map((r.param_shapes as [string, number[]][]).map(([k, s]) => [k, s.join("x")]));
  const a = shapes(hlgmRun);
  const b = shapes(ptRun);
  const diffs = [
    ...[...a].filter(([k, s]) => b.get(k) !== s).map(([k, s]) =>
      `${k}: hlgm ${s}, pytorch ${b.get(k) ?? "absent"}`
    ),
    ...[...b].filter(([k]) => !a.has(k)).map(([k, s]) => `${k}: hlgm absent, pytorch ${s}`),
  ];
  if (hlgmRun.params !== ptRun.params || diffs.length) {
    throw new Error(
      `${model}: parameters differ: hlgm ${hlgmRun.params}, PyTorch ${ptRun.params}` +
        (diffs.length ? `; ${diffs.slice(0, 10).join("; ")}` : ""),
    );
  }
}

/** Forward + backward of each model: hlgm vs PyTorch (default malloc, kept malloc). */
async function modelsStep() {
  const batch = intFlag("model-batch", 64);
  const modelRounds = intFlag("model-rounds", 1);
  const out: Record<string, unknown> = { batch, device, threads: Number(threads) };
  for (const model of models) {
    const small = model === "shallow-cnn";
    const stepArgs = [
      "--model",
      model,
      "--device",
      device,
      "--steps",
      String(
        Math.ceil(intFlag("model-steps", quick ? (small ? 3 : 1) : (small ? 20 : 5)) / modelRounds),
      ),
      "--warmup",
      String(intFlag("model-warmup", quick ? 1 : (small ? 3 : 2), 0)),
      "--batch",
      String(batch),
      "--threads",
      threads,
    ];
    const variants: Variant[] = [
      {
        name: "hlgm",
        cmd: Deno.execPath(),
        argv: ["run", "-A", here("./model_step.ts"), ...stepArgs],
        vars: {},
        runs: [],
      },
      ...pytorchVariants("./model_step.py", stepArgs),
    ];
    for (let n = 1; n <= modelRounds; n++) {
      await runVariants(`${model} forward+backward, batch ${batch}, ${n}/${modelRounds}`, variants);
    }
    const hlgmRun = variants[0].runs[0];
    for (const v of variants.slice(1)) for (const r of v.runs) checkParams(model, hlgmRun, r);
    const t = (name: string) => ms(variants, name);
    out[model] = {
      input: MODEL_CONFIGS[model].input.join("x"),
      hlgm_ms: t("hlgm"),
      pytorch_default_ms: t("pytorch_default"),
      pytorch_kept_malloc_ms: t("pytorch_kept_malloc"),
      ratio_vs_pytorch_default: ratio(t("hlgm"), t("pytorch_default")),
      ratio_vs_pytorch_kept_malloc: ratio(t("hlgm"), t("pytorch_kept_malloc")),
      params: hlgmRun.params,
      min_ms: {
        hlgm: least(variants, "hlgm"),
        pytorch_default: least(variants, "pytorch_default"),
        pytorch_kept_malloc: least(variants, "pytorch_kept_malloc"),
      },
      cpu_ms: {
        hlgm: cpu(variants, "hlgm"),
        pytorch_default: cpu(variants, "pytorch_default"),
        pytorch_kept_malloc: cpu(variants, "pytorch_kept_malloc"),
      },
      steps: variants[0].runs.reduce((n, r) => n + (r.steps as number), 0),
      rounds: modelRounds,
      warmup: hlgmRun.warmup,
      peak_rss_mb: {
        hlgm: mb(variants, "hlgm"),
        pytorch_default: mb(variants, "pytorch_default"),
        pytorch_kept_malloc: mb(variants, "pytorch_kept_malloc"),
      },
    };
  }
  out.pytorch = pytorch;
  return out;
}

/** The precision variants measured on this device: [label, precision, channels-last]. */
const PRECISION_VARIANTS: [string, string, boolean][] = [
  ["fp32", "fp32", false],
  ["bf16-mixed", "bf16-mixed", false],
  ["fp32+channels-last", "fp32", true],
  ["bf16-mixed+channels-last", "bf16-mixed", true],
  ...(device.startsWith("cuda")
    ? [["fp16-mixed", "fp16-mixed", false] as [string, string, boolean]]
    : []),
];

/**
 * The trainer's plain and masked (HLGM denoise) steps per precision and layout, hlgm against
 * PyTorch with the same settings (glibc keeping freed memory; the same autocast, layout, optimizer
 * and step): bench/precision_step.ts and .py.
 */
async function precisionSteps() {
  const out: Record<string, unknown> = { device, threads: Number(threads) };
  for (const model of ["shallow-cnn", "resnet18"]) {
    const small = model === "shallow-cnn";
    const perModel: Record<string, unknown> = {};
    for (const step of ["plain", "masked"]) {
      const rows: Record<string, unknown> = {};
      const hlgmMs: Record<string, number | null> = {};
      for (const [label, precision, channelsLast] of PRECISION_VARIANTS) {
        const stepArgs = [
          ...["--model", model, "--step", step, "--precision", precision, "--device", device],
          ...["--threads", threads, ...(channelsLast ? ["--channels-last"] : [])],
          ...["--steps", String(intFlag("precision-steps", quick ? 1 : small ? 5 : 3))],
          ...["--warmup", String(quick ? 1 : small ? 2 : 1)],
        ];
        const variants: Variant[] = [
          {
            name: "hlgm",
            cmd: Deno.execPath(),
            argv: ["run", "-A", here("./precision_step.ts"), ...stepArgs],
            vars: {},
            runs: [],
          },
          ...pytorchVariants("./precision_step.py", stepArgs).filter((v) =>
            v.name === "pytorch_kept_malloc"
          ),
        ];
        // rounds interleave hlgm and PyTorch: a busy spell of the machine hits both alike
        const rounds = intFlag("precision-rounds", quick ? 1 : 2);
        for (let n = 1; n <= rounds; n++) {
          await runVariants(`${model} ${step} step, ${label}, ${n}/${rounds}`, variants);
        }
        const t = (name: string) => ms(variants, name);
        hlgmMs[label] = t("hlgm");
        rows[label] = {
          hlgm_ms: t("hlgm"),
          pytorch_ms: t("pytorch_kept_malloc"),
          ratio_vs_pytorch: ratio(t("hlgm"), t("pytorch_kept_malloc")),
          cpu_ms: { hlgm: cpu(variants, "hlgm"), pytorch: cpu(variants, "pytorch_kept_malloc") },
          peak_rss_mb: { hlgm: mb(variants, "hlgm"), pytorch: mb(variants, "pytorch_kept_malloc") },
          onednn: variants[0].runs[0]?.onednn ?? null,
        };
      }
      rows.hlgm_vs_fp32 = Object.fromEntries(
        Object.keys(hlgmMs).filter((k) => k !== "fp32").map((k) => [
          k,
          ratio(hlgmMs[k], hlgmMs.fp32),
        ]),
      );
      perModel[step] = rows;
    }
    out[model] = { batch: small ? 256 : 64, ...perModel };
  }
  out.pytorch = pytorch;
  return out;
}

const report: Record<string, unknown> = { machine };
try {
  if (only.has("ffi")) {
    log(`FFI overhead (${quick ? "quick" : "full"})`);
    report.ffi = measureFfi(quick);
    log(`  ${JSON.stringify(report.ffi)}`);
  }
  if (only.has("shallow_cnn")) report.shallow_cnn_step = await shallowCnnStep();
  if (only.has("models")) report.models = await modelsStep();
  if (only.has("precision")) report.precision = await precisionSteps();
  if (only.has("loader")) {
    log("loader throughput");
    const argv = [
      "run",
      "-A",
      here("./loader.ts"),
      "--device",
      device,
      ...(quick ? ["--quick"] : []),
    ];
    report.loader = await runJson(Deno.execPath(), argv, {});
  }
  for (
    const section of ["saliency", "epochs", "estimate", "dist", "cifar_epoch", "faith"] as const
  ) {
    if (!only.has(section)) continue;
    log(`${section} (bench/${section}.ts)`);
    const argv = [
      "run",
      "-A",
      here(`./${section}.ts`),
      "--device",
      device,
      ...(quick ? ["--quick"] : []),
    ];
    report[section] = await runJson(Deno.execPath(), argv, {});
  }
} catch (e) {
  fail((e as Error).message);
}
machine.load_avg_end = loadAvg();

console.log(JSON.stringify(report, null, 2));

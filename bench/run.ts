/**
 * The benchmark suite (`deno task bench`): FFI overhead per op and a shallow-CNN training
 * step in hlgm vs the same step in PyTorch. Prints one JSON document on stdout; progress
 * goes to stderr. See bench/README.md for what is measured.
 *
 *   deno run -A bench/run.ts [--device cpu|cuda|cuda:N] [--quick] [--steps N] [--warmup N]
 *     [--batch N] [--rounds N] [--no-pytorch]
 *
 * --steps is the total of timed steps per variant, split over --rounds rounds; each round
 * starts every variant once as a fresh process (warmup steps each time).
 *
 * Environment: HLGM_BENCH_PYTHON picks the python that runs the PyTorch side (default: the
 * first of `python3`, `/usr/bin/python3` that imports torch); HLGM_NUM_THREADS sets the
 * thread count of both sides (default: the number of cores).
 *
 * @module
 */

import { getNumThreads, info, setDefaultDevice } from "../mod.ts";
import { measureFfi } from "./ffi_overhead.ts";
import { flag, median, round } from "./util.ts";

/** glibc tunables equivalent to the mallopt() calls in native/core.cpp. */
const SAME_MALLOC = {
  MALLOC_MMAP_MAX_: "0",
  MALLOC_TRIM_THRESHOLD_: String(1 << 30),
  MALLOC_TOP_PAD_: String(64 << 20),
};

const args = Deno.args;
const quick = args.includes("--quick");
const device = flag(args, "device") ?? "cpu";
const rounds = Number(flag(args, "rounds") ?? (quick ? 1 : 2));
const steps = Number(flag(args, "steps") ?? (quick ? 3 : 20));
const stepArgs = [
  "--device",
  device,
  "--steps",
  String(Math.ceil(steps / rounds)),
  "--warmup",
  flag(args, "warmup") ?? (quick ? "1" : "3"),
  "--batch",
  flag(args, "batch") ?? "256",
  "--threads",
  String(getNumThreads()),
];
const here = (file: string) => new URL(file, import.meta.url).pathname;
const log = (msg: string) => console.error(`[bench] ${msg}`);

try {
  setDefaultDevice(device); // fails clearly when CUDA is asked for and absent
  setDefaultDevice("cpu");
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  Deno.exit(1);
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

/** The python that imports torch, or null. */
async function findPython(): Promise<string | null> {
  const explicit = Deno.env.get("HLGM_BENCH_PYTHON");
  for (const py of explicit ? [explicit] : ["python3", "/usr/bin/python3"]) {
    try {
      const r = await new Deno.Command(py, { args: ["-c", "import torch"], stderr: "null" })
        .output();
      if (r.success) return py;
    } catch { /* not installed */ }
  }
  return null;
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
  gpu: null as string | null,
  load_avg_start: loadAvg(),
  load_avg_end: null as string | null,
};

log(`FFI overhead (${quick ? "quick" : "full"})`);
const ffi = measureFfi(quick);
log(`  ${JSON.stringify(ffi)}`);

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

const stepTs = here("./shallow_cnn_step.ts");
const denoArgv = ["run", "-A", stepTs, ...stepArgs];
const variants: Variant[] = [
  { name: "deno", cmd: Deno.execPath(), argv: denoArgv, vars: {}, runs: [] },
  {
    name: "deno_default_malloc",
    cmd: Deno.execPath(),
    argv: denoArgv,
    vars: { HLGM_MALLOC: "default" },
    runs: [],
  },
];
const explicitPython = Deno.env.get("HLGM_BENCH_PYTHON");
let pytorch: Record<string, unknown> | string = explicitPython
  ? `not found (HLGM_BENCH_PYTHON=${explicitPython} cannot import torch)`
  : "not found";
const python = args.includes("--no-pytorch") ? null : await findPython();
if (args.includes("--no-pytorch")) pytorch = "skipped (--no-pytorch)";
if (python) {
  const argv = [here("./shallow_cnn_step.py"), ...stepArgs];
  variants.push(
    { name: "pytorch_default", cmd: python, argv, vars: {}, runs: [] },
    { name: "pytorch_same_malloc", cmd: python, argv, vars: SAME_MALLOC, runs: [] },
  );
}

// Rounds interleave the variants, so that load from elsewhere on the machine hits them alike.
for (let n = 1; n <= rounds; n++) {
  for (const v of variants) {
    const vars = Object.entries(v.vars).map((e) => e.join("=")).join(" ");
    log(`shallow CNN step ${n}/${rounds}: ${v.name}${vars ? ` (${vars})` : ""}`);
    try {
      const r: StepRun = await runJson(v.cmd, v.argv, v.vars);
      v.runs.push(r);
      log(`  ${r.ms_per_step.toFixed(1)} ms/step`);
    } catch (e) {
      if (!v.name.startsWith("pytorch")) throw e;
      pytorch = `failed: ${(e as Error).message}`; // e.g. a CPU-only torch with --device cuda
      variants.splice(variants.length - 2, 2);
      break;
    }
  }
}

const byName = (name: string) => variants.find((v) => v.name === name && v.runs.length > 0);
const ms = (name: string) => {
  const v = byName(name);
  return v ? round(median(v.runs.flatMap((r) => r.times_ms))) : null;
};
const mb = (name: string) => {
  const peaks = byName(name)?.runs.map((r) => r.peak_rss_bytes ?? 0) ?? [];
  return peaks.length && Math.max(...peaks) > 0 ? round(Math.max(...peaks) / 2 ** 20, 1) : null;
};
const ratio = (a: number | null, b: number | null) => (a && b ? round(a / b, 3) : null);
const first = variants[0].runs[0];
const py = byName("pytorch_default")?.runs[0];
if (py) {
  pytorch = { python, version: py.torch, torch_lib_dir: py.torch_lib_dir, threads: py.threads };
  machine.gpu = py.gpu as string | null;
}
machine.load_avg_end = loadAvg();

const step = {
  device,
  batch: first.batch,
  steps: variants[0].runs.length * (first.steps as number),
  warmup: first.warmup,
  rounds,
  threads: first.threads,
  deno_ms: ms("deno"),
  deno_default_malloc_ms: ms("deno_default_malloc"),
  pytorch_default_ms: ms("pytorch_default"),
  pytorch_same_malloc_ms: ms("pytorch_same_malloc"),
  ratio_vs_pytorch_default: ratio(ms("deno"), ms("pytorch_default")),
  ratio_vs_pytorch_same_malloc: ratio(ms("deno"), ms("pytorch_same_malloc")),
  ratio_default_malloc_vs_pytorch_default: ratio(
    ms("deno_default_malloc"),
    ms("pytorch_default"),
  ),
  peak_rss_mb: {
    deno: mb("deno"),
    deno_default_malloc: mb("deno_default_malloc"),
    pytorch_default: mb("pytorch_default"),
    pytorch_same_malloc: mb("pytorch_same_malloc"),
  },
  same_malloc_env: SAME_MALLOC,
  pytorch,
};

console.log(JSON.stringify({ machine, ffi, shallow_cnn_step: step }, null, 2));

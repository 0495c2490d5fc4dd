/**
 * Finds libtorch and compiles the C++ shim into a shared library.
 *
 * libtorch is looked up in this order:
 * 1. `LIBTORCH`: a root folder with `include/` and `lib/` (an unpacked libtorch zip);
 * 2. an installed PyTorch (pip, conda, pyenv, Debian's python3-torch): only its `torch/include`
 *    and `torch/lib` folders are used, Python itself is never run;
 * 3. system paths (Debian's `libtorch-dev`: /usr/include and the multiarch lib folder).
 *
 * Run directly (`deno task build:native`) to build now and print the library's path.
 *
 * @module
 */

import { createHash } from "node:crypto";

import { SHIM_SOURCE_TEXTS, SHIM_SOURCES } from "./sources.ts";
import { cacheDir } from "../src/util/cache_dir.ts";

export { SHIM_SOURCES };

/** Where a libtorch was found and what it is. */
export interface Libtorch {
  /** How it was found. */
  source: "LIBTORCH" | "pytorch" | "system";
  /** Root folder (for `system`: the lib folder's parent). */
  root: string;
  /** Include folders to pass to the compiler. */
  includeDirs: string[];
  /** Folder holding libtorch_cpu.so (also the rpath). */
  libDir: string;
  /** "major.minor.patch" from torch/version.h. */
  version: string;
  /** True when libtorch_cuda.so sits beside libtorch_cpu.so. */
  cuda: boolean;
}

const API_INCLUDE = "torch/csrc/api/include";
// Already system folders: naming them again with -isystem reorders them and breaks
// #include_next in libstdc++.
const SYSTEM_INCLUDE = new Set(["/usr/include", "/usr/local/include"]);

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Expands `*` in single path segments (no `**`), e.g. /usr/lib/python3* /site-packages. */
function glob(pattern: string): string[] {
  const parts = pattern.split("/").filter((p) => p !== "");
  let found = [pattern.startsWith("/") ? "/" : "."];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of found) {
      if (!part.includes("*")) {
        const p = `${base === "/" ? "" : base}/${part}`;
        if (exists(p)) next.push(p);
        continue;
      }
      const re = new RegExp(`^${part.replaceAll(".", "\\.").replaceAll("*", ".*")}$`);
      try {
        for (const entry of Deno.readDirSync(base)) {
          if (re.test(entry.name)) next.push(`${base === "/" ? "" : base}/${entry.name}`);
        }
      } catch {
        // unreadable folder: nothing below it
      }
    }
    found = next.sort();
  }
  return found;
}

// torch/version.h holds the numbers up to 2.9; from 2.10 it includes torch/headeronly/version.h.
const VERSION_HEADERS = ["torch/version.h", "torch/headeronly/version.h"];

function readVersion(includeDirs: string[]): string | undefined {
  for (const file of includeDirs.flatMap((d) => VERSION_HEADERS.map((h) => `${d}/${h}`))) {
    try {
      const text = Deno.readTextFileSync(file);
      const get = (name: string) => text.match(new RegExp(`#define ${name} (\\d+)`))?.[1];
      const [major, minor, patch] = [
        get("TORCH_VERSION_MAJOR"),
        get("TORCH_VERSION_MINOR"),
        get("TORCH_VERSION_PATCH"),
      ];
      if (major && minor) return `${major}.${minor}.${patch ?? 0}`;
    } catch {
      // try the next place
    }
  }
  return undefined;
}

function fromRoot(root: string, source: Libtorch["source"]): Libtorch | undefined {
  const includeDirs = [`${root}/include`, `${root}/include/${API_INCLUDE}`];
  const libDir = `${root}/lib`;
  if (!exists(`${root}/include/ATen/ATen.h`)) return undefined;
  if (!exists(`${libDir}/libtorch_cpu.so`) && !exists(`${libDir}/libtorch.so`)) return undefined;
  const version = readVersion(includeDirs);
  if (!version) return undefined;
  return { source, root, includeDirs, libDir, version, cuda: exists(`${libDir}/libtorch_cuda.so`) };
}

function pytorchCandidates(): string[] {
  const home = Deno.env.get("HOME") ?? "";
  const prefixes = [
    Deno.env.get("VIRTUAL_ENV"),
    Deno.env.get("CONDA_PREFIX"),
    "/usr/local",
    "/usr",
    "/opt/conda",
    `${home}/.local`,
    ...glob(`${home}/.pyenv/versions/*`),
  ].filter((p): p is string => !!p);
  const roots: string[] = [];
  for (const prefix of prefixes) {
    for (const sub of ["site-packages", "dist-packages"]) {
      roots.push(...glob(`${prefix}/lib/python3*/${sub}/torch`));
    }
  }
  roots.push("/usr/lib/python3/dist-packages/torch");
  return roots;
}

function systemLibtorch(): Libtorch | undefined {
  const multiarch = Deno.build.arch === "aarch64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
  const libDirs = [`/usr/lib/${multiarch}`, "/usr/lib64", "/usr/lib", "/usr/local/lib"];
  const includeDirs = ["/usr/include", `/usr/include/${API_INCLUDE}`];
  const libDir = libDirs.find((d) => exists(`${d}/libtorch_cpu.so`));
  if (!libDir || !exists("/usr/include/ATen/ATen.h")) return undefined;
  const version = readVersion(includeDirs);
  if (!version) return undefined;
  const root = libDir.replace(/\/lib[^/]*(\/[^/]+)?$/, "") || "/usr";
  return {
    source: "system",
    root,
    includeDirs,
    libDir,
    version,
    cuda: exists(`${libDir}/libtorch_cuda.so`),
  };
}

/** Finds libtorch (see the module comment for the order), or throws saying how to get one. */
export function findLibtorch(): Libtorch {
  const env = Deno.env.get("LIBTORCH");
  if (env) {
    const found = fromRoot(env.replace(/\/+$/, ""), "LIBTORCH");
    if (!found) {
      throw new Error(
        `LIBTORCH=${env} is not a libtorch root: expected include/ATen/ATen.h, ` +
          `include/${API_INCLUDE}/torch/version.h and lib/libtorch_cpu.so`,
      );
    }
    return found;
  }
  for (const root of pytorchCandidates()) {
    const found = fromRoot(root, "pytorch");
    if (found) return found;
  }
  const system = systemLibtorch();
  if (system) return system;
  throw new Error(
    "libtorch not found. Install it with `sudo apt-get install -y libtorch-dev` (Debian/Ubuntu), " +
      "or set LIBTORCH to an unpacked libtorch (with include/ and lib/), or install PyTorch " +
      "(its torch/include and torch/lib are used).",
  );
}

/**
 * The `_GLIBCXX_USE_CXX11_ABI` libtorch was built with (pip wheels before PyTorch 2.7 used 0).
 * Read from TorchConfig.cmake's TORCH_CXX_FLAGS when shipped (pip wheels and libtorch zips
 * under share/cmake, Debian under the lib folder's cmake/), else from libc10.so itself: new-ABI
 * builds export names mangled with `__cxx11` (std::__cxx11::basic_string).
 */
export function cxx11Abi(libtorch: Pick<Libtorch, "root" | "libDir">): 0 | 1 {
  for (
    const file of [
      `${libtorch.root}/share/cmake/Torch/TorchConfig.cmake`,
      `${libtorch.libDir}/cmake/Torch/TorchConfig.cmake`,
    ]
  ) {
    try {
      const flag = Deno.readTextFileSync(file).match(/-D_GLIBCXX_USE_CXX11_ABI=([01])/)?.[1];
      if (flag) return flag === "1" ? 1 : 0;
    } catch {
      // not shipped here
    }
  }
  try {
    const bytes = Deno.readFileSync(`${libtorch.libDir}/libc10.so`);
    const needle = new TextEncoder().encode("St7__cxx11");
    outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
      for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
      return 1;
    }
    return 0;
  } catch {
    return 1; // the compiler's default
  }
}

/** The C++ standard for a libtorch version: ATen's headers require C++20 from 2.14 on. */
export function cxxStandard(version: string): "c++17" | "c++20" {
  const [major, minor] = version.split(".").map(Number);
  // from 2.12, as PyTorch itself moved to C++20 then; the shim is C++17 and C++20 clean
  return major > 2 || (major === 2 && minor >= 12) ? "c++20" : "c++17";
}

/** What native/distributed.cpp is built with, decided from the headers and libraries found. */
export interface DistributedSupport {
  /** c10d's headers in libtorch and Gloo's headers: the TCPStore + Gloo process group. */
  c10d: boolean;
  /** Also ProcessGroupNCCL: a CUDA libtorch, nccl.h, CUDA's headers, libnccl and libcudart. */
  nccl: boolean;
  /** Why not (empty when `c10d`): a line for the user. */
  reason: string;
  /** Extra include folders (Gloo's, NCCL's, CUDA's) not already among libtorch's. */
  includeDirs: string[];
  /** Extra linker arguments (NCCL and the CUDA runtime). */
  link: string[];
}

const C10D_GLOO_HEADER = "torch/csrc/distributed/c10d/ProcessGroupGloo.hpp";
const C10D_NCCL_HEADER = "torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp";
const GLOO_HEADER = "gloo/rendezvous/store.h";

/**
 * Whether the shim can include c10d (and NCCL): native/distributed.cpp compiles to stubs that
 * return a clear error otherwise, so a libtorch without them still builds. Gloo's headers come
 * with libtorch (some PyTorch builds ship include/gloo) or from the system (Debian:
 * `apt-get install libgloo-dev`). `HLGM_DISTRIBUTED=0` turns it off.
 */
export function distributedSupport(libtorch: Libtorch): DistributedSupport {
  const off = (reason: string): DistributedSupport => ({
    c10d: false,
    nccl: false,
    reason,
    includeDirs: [],
    link: [],
  });
  if (Deno.env.get("HLGM_DISTRIBUTED") === "0") return off("HLGM_DISTRIBUTED=0");
  const inLibtorch = (header: string) => libtorch.includeDirs.some((d) => exists(`${d}/${header}`));
  if (!inLibtorch(C10D_GLOO_HEADER)) {
    return off(
      `libtorch ${libtorch.version} has no ${C10D_GLOO_HEADER} (built without USE_DISTRIBUTED?)`,
    );
  }
  const findDir = (header: string, dirs: string[]) => dirs.find((d) => exists(`${d}/${header}`));
  const systemIncludes = [...libtorch.includeDirs, "/usr/include", "/usr/local/include"];
  const glooDir = findDir(GLOO_HEADER, systemIncludes);
  if (!glooDir) return off(`Gloo's headers (${GLOO_HEADER}) are not installed`);
  // (found among libtorch's or the system's include folders: nothing to add)
  const support: DistributedSupport = {
    c10d: true,
    nccl: false,
    reason: "",
    includeDirs: [],
    link: [],
  };
  if (!libtorch.cuda || !inLibtorch(C10D_NCCL_HEADER)) return support;
  // NCCL: its header and CUDA's (ProcessGroupNCCL.hpp includes both) and their libraries, from
  // the system, CUDA_HOME, or the nvidia-* pip packages beside a pip PyTorch.
  const multiarch = Deno.build.arch === "aarch64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
  const cudaHome = Deno.env.get("CUDA_HOME") || Deno.env.get("CUDA_PATH") || "/usr/local/cuda";
  const nvidia = `${libtorch.root}/../nvidia`;
  const ncclInc = findDir("nccl.h", [
    ...systemIncludes,
    `${cudaHome}/include`,
    `${nvidia}/nccl/include`,
  ]);
  const cudaInc = findDir("cuda_runtime_api.h", [
    ...systemIncludes,
    `${cudaHome}/include`,
    `${nvidia}/cuda_runtime/include`,
  ]);
  const libDirs = [
    libtorch.libDir,
    `/usr/lib/${multiarch}`,
    `${cudaHome}/lib64`,
    `${nvidia}/nccl/lib`,
    `${nvidia}/cuda_runtime/lib`,
  ];
  const findLib = (name: string) => {
    for (const d of libDirs) {
      for (
        const file of [
          `lib${name}.so`,
          ...glob(`${d}/lib${name}.so.*`).map((p) => p.slice(d.length + 1)),
        ]
      ) {
        if (exists(`${d}/${file}`)) return { dir: d, file };
      }
    }
    return undefined;
  };
  const nccl = findLib("nccl");
  const cudart = findLib("cudart");
  if (!ncclInc || !cudaInc || !nccl || !cudart) return support;
  const extra = [ncclInc, cudaInc].filter((d) => !systemIncludes.includes(d));
  const libs = [nccl, cudart];
  return {
    ...support,
    nccl: true,
    includeDirs: [...new Set(extra)],
    link: [
      ...[...new Set(libs.map((l) => l.dir))].flatMap((d) => [`-L${d}`, `-Wl,-rpath,${d}`]),
      ...libs.map((l) => `-l:${l.file}`),
    ],
  };
}

/** The preprocessor flags that switch native/distributed.cpp from stubs to c10d. */
export function distributedDefines(support: DistributedSupport): string[] {
  if (!support.c10d) return [];
  return ["-DHLGM_WITH_C10D=1", ...(support.nccl ? ["-DHLGM_WITH_NCCL=1"] : [])];
}

/** Compiler and linker arguments for one libtorch (without sources and output). */
export function compileFlags(libtorch: Libtorch): { compile: string[]; link: string[] } {
  const dist = distributedSupport(libtorch);
  const abi = cxx11Abi(libtorch);
  const compile = [
    `-std=${cxxStandard(libtorch.version)}`,
    "-O2",
    "-fPIC",
    "-fvisibility=hidden",
    `-D_GLIBCXX_USE_CXX11_ABI=${abi}`,
    // The shim's own code is warning-free on every supported libtorch; libtorch's headers are
    // system headers so their warnings (which vary by version) stay out of it.
    "-Wall",
    "-Wextra",
    ...libtorch.includeDirs.map((d) => SYSTEM_INCLUDE.has(d) ? `-I${d}` : `-isystem${d}`),
    ...dist.includeDirs.map((d) => `-isystem${d}`),
    ...distributedDefines(dist),
  ];
  // CUDA kernels only register when libtorch_cuda is loaded; nothing in the shim references it,
  // so --as-needed would drop it silently.
  const cuda = libtorch.cuda
    ? ["-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed"]
    : [];
  const link = [
    "-shared",
    // A wrong _GLIBCXX_USE_CXX11_ABI would otherwise link, load, and abort at the first error.
    "-Wl,--no-undefined",
    `-L${libtorch.libDir}`,
    `-Wl,-rpath,${libtorch.libDir}`,
    ...cuda,
    "-ltorch_cpu",
    "-lc10",
    "-ltorch",
    ...dist.link,
  ];
  return { compile, link };
}

function sha256(parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex");
}

/** The path the shim for these sources and this libtorch is cached at. */
export function cachedLibraryPath(
  sources: Record<string, string>,
  libtorch: Libtorch,
): string {
  const flags = compileFlags(libtorch);
  const key = sha256([
    ...SHIM_SOURCES.map((name) => `${name}\n${sources[name]}`),
    libtorch.version,
    libtorch.root,
    libtorch.libDir,
    ...flags.compile,
    ...flags.link,
  ]);
  return `${cacheDir()}/native/${libtorch.version}-${key.slice(0, 16)}/libhlgm.so`;
}

/** Runs the compiler; returns what it printed on success (warnings), throws on failure. */
async function run(cmd: string, args: string[]): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `${cmd} not found: the hlgm shim is compiled on first use. Install a C++ compiler with ` +
          "`sudo apt-get install -y g++` (or set CXX), or point HLGM_NATIVE_LIB at a built shim.",
        { cause: e },
      );
    }
    throw e;
  }
  if (!output.success) {
    const err = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-30).join("\n");
    throw new Error(`building the hlgm shim failed: ${cmd} ${args.join(" ")}\n${err}`);
  }
  return new TextDecoder().decode(output.stderr).trim();
}

/** The compiler's warnings from building the shim at `libraryPath` ("" = none). */
export function buildWarnings(libraryPath: string): string {
  return Deno.readTextFileSync(`${libraryPath.slice(0, libraryPath.lastIndexOf("/"))}/build.log`);
}

/**
 * Compiles `sources` (file name -> text) against `libtorch` into `outFile`. The library is
 * written under a temporary name and renamed, so concurrent builds never see a half file.
 */
export async function buildShim(
  sources: Record<string, string>,
  libtorch: Libtorch,
  outFile: string,
): Promise<void> {
  const cxx = Deno.env.get("CXX") || "g++";
  const outDir = outFile.slice(0, outFile.lastIndexOf("/"));
  await Deno.mkdir(outDir, { recursive: true });
  const work = await Deno.makeTempDir({ dir: outDir, prefix: ".build-" });
  try {
    for (const name of SHIM_SOURCES) await Deno.writeTextFile(`${work}/${name}`, sources[name]);
    const flags = compileFlags(libtorch);
    const units = SHIM_SOURCES.filter((n) => n.endsWith(".cpp"));
    const compile = (n: string, args = flags.compile) =>
      run(cxx, [...args, "-c", `${work}/${n}`, "-o", `${work}/${n}.o`]);
    const tmp = `${work}/libhlgm.so`;
    const link = (args = flags.link) =>
      run(cxx, ["-o", tmp, ...units.map((n) => `${work}/${n}.o`), ...args]);
    // One compiler per translation unit, in parallel: each takes seconds on ATen's headers.
    // distributed.cpp's c10d half is the one part that depends on more than libtorch's own
    // headers (Gloo's, NCCL's, and a libtorch that exports c10d): when it fails to compile or
    // link, the shim is built again with its stubs, which say what is missing at run time.
    const dist = "distributed.cpp";
    let distFailure = "";
    const warnings = await Promise.all(
      units.map((n) =>
        n !== dist ? compile(n) : compile(n).catch((e: Error) => {
          distFailure = e.message;
          return "";
        })
      ),
    );
    let linked = "";
    if (distFailure === "") {
      linked = await link().catch((e: Error) => {
        distFailure = e.message;
        return "";
      });
    }
    if (distFailure !== "") {
      const withoutDist = new Set(distributedSupport(libtorch).link);
      const stubFlags = flags.compile.filter((f) => !f.startsWith("-DHLGM_WITH_"));
      warnings.push(await compile(dist, stubFlags));
      linked = await link(flags.link.filter((f) => !withoutDist.has(f)));
      warnings.push(
        `hlgm: distributed training is off in this build: c10d did not compile or link\n${
          distFailure.split("\n").slice(-10).join("\n")
        }`,
      );
    }
    warnings.push(linked);
    // Kept beside the library: a test asserts it is empty on every supported libtorch.
    const log = warnings.filter((w) => w !== "").join("\n");
    if (log !== "") console.error(`hlgm: the shim built with warnings:\n${log}`);
    await Deno.writeTextFile(`${outDir}/build.log`, log);
    await Deno.rename(tmp, outFile);
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/**
 * Returns the path of a shim built from the sources (sources.ts) for the libtorch found here,
 * building it first (one line on stderr) when the cache has none.
 */
export async function ensureShim(force = false): Promise<string> {
  const libtorch = findLibtorch();
  const path = cachedLibraryPath(SHIM_SOURCE_TEXTS, libtorch);
  if (force || !exists(path)) {
    console.error(
      `hlgm: building the libtorch shim (libtorch ${libtorch.version} ${
        libtorch.cuda ? "cuda" : "cpu"
      } from ${libtorch.root}) into ${path} ...`,
    );
    await buildShim(SHIM_SOURCE_TEXTS, libtorch, path);
  }
  return path;
}

/**
 * The path of the shim, without awaiting (the library opens on first use, from synchronous
 * code): a cached build is found in-process; a missing one is built by this module run as a
 * child Deno process, which prints the path (its messages go to stderr). The sources come with
 * the module graph, so a project imported from a URL and built once runs offline.
 */
export function ensureShimSync(): string {
  const cached = cachedLibraryPath(SHIM_SOURCE_TEXTS, findLibtorch());
  if (exists(cached)) return cached;
  const script = new URL("build.ts", import.meta.url).href;
  let out: Deno.CommandOutput;
  try {
    out = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", "--quiet", script],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
  } catch (e) {
    throw new Error(`cannot run ${Deno.execPath()} to build the hlgm shim: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const err = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) {
    // the child's own message, without Deno's "error: Uncaught (in promise)" wrapping or stack
    const message = err.split("\n").filter((l) => !/^\s+at /.test(l)).join("\n")
      .replace(/^error: Uncaught (\(in promise\) )?(Error: )?/m, "").trim();
    throw new Error(message || "building the hlgm shim failed");
  }
  if (err) console.error(err);
  const path = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!exists(path)) throw new Error(`the shim build printed "${path}", which is not a file`);
  return path;
}

if (import.meta.main) {
  const path = await ensureShim(Deno.args.includes("--force"));
  console.log(path);
}

import assert from "node:assert/strict";
import { SHIM_SOURCE_TEXTS } from "../native/sources.ts";
import {
  buildWarnings,
  cachedLibraryPath,
  compileFlags,
  cxx11Abi,
  cxxStandard,
  distributedSupport,
  findLibtorch,
  SHIM_SOURCES,
} from "../native/build.ts";

const nativeDir = new URL("../native/", import.meta.url);

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const set = (k: string, v: string | undefined) =>
    v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  for (const [k, v] of Object.entries(vars)) set(k, v);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) set(k, v);
  }
}

Deno.test("build: a LIBTORCH that is not a libtorch root is a clear error", () => {
  withEnv({ LIBTORCH: "/nonexistent/libtorch" }, () => {
    assert.throws(() => findLibtorch(), /LIBTORCH=\/nonexistent\/libtorch is not a libtorch root/);
  });
});

Deno.test("build: LIBTORCH pointing at a root with include/ and lib/ is used first", () => {
  const found = findLibtorch();
  const root = Deno.makeTempDirSync();
  try {
    fakeTorch(root, { version: "2.5.1", c10: NEW_ABI_NAME, cuda: true });
    const lt = withEnv({ LIBTORCH: root }, () => findLibtorch());
    assert.equal(lt.source, "LIBTORCH");
    assert.equal(lt.version, "2.5.1");
    assert.equal(lt.cuda, true);
    const flags = compileFlags(lt);
    // torch_cuda must be linked even though nothing references it, or CUDA never registers
    const i = flags.link.indexOf("-ltorch_cuda");
    assert.ok(i > 0 && flags.link[i - 1] === "-Wl,--no-as-needed", flags.link.join(" "));
    assert.ok(flags.link.includes("-Wl,--no-undefined"));
    assert.ok(flags.link.includes(`-Wl,-rpath,${root}/lib`));
    assert.notEqual(lt.root, found.root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("build: the sources travel with the module graph; the cache key changes with them and the libtorch", () => {
  const lt = findLibtorch();
  // every C++ file of native/ is a source, with its text as on disk
  const onDisk = [...Deno.readDirSync(nativeDir)].map((e) => e.name)
    .filter((n) => /\.(cpp|h)$/.test(n)).sort();
  assert.deepEqual([...SHIM_SOURCES].sort(), onDisk);
  const sources = { ...SHIM_SOURCE_TEXTS };
  for (const name of SHIM_SOURCES) {
    assert.equal(sources[name], Deno.readTextFileSync(new URL(name, nativeDir)), name);
  }
  const a = cachedLibraryPath(sources, lt);
  assert.equal(cachedLibraryPath(sources, lt), a);
  const edited = { ...sources, "core.cpp": sources["core.cpp"] + "\n// edit\n" };
  assert.notEqual(cachedLibraryPath(edited, lt), a);
  assert.notEqual(cachedLibraryPath(sources, { ...lt, version: "9.9.9" }), a);
  assert.match(
    a,
    new RegExp(`/native/${lt.version.replaceAll(".", "\\.")}-[0-9a-f]{16}/libhlgm\\.so$`),
  );
});

Deno.test("build: a missing compiler is a clear error that says how to install one", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../native/build.ts", import.meta.url).pathname],
      env: { CXX: "/nonexistent/g++", HLGM_CACHE_DIR: cache },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.success, false);
    const err = new TextDecoder().decode(out.stderr);
    assert.match(err, /\/nonexistent\/g\+\+ not found/);
    assert.match(err, /apt-get install -y g\+\+/);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

/** A pip-style torch/ folder: include/, lib/ and (optionally) share/cmake/Torch. */
function fakeTorch(
  dir: string,
  opts: { version: string; c10: string; cmakeAbi?: 0 | 1; cuda?: boolean; headeronly?: boolean },
): void {
  const [major, minor, patch] = opts.version.split(".");
  const numbers = `#define TORCH_VERSION_MAJOR ${major}\n#define TORCH_VERSION_MINOR ${minor}\n` +
    `#define TORCH_VERSION_PATCH ${patch}\n`;
  Deno.mkdirSync(`${dir}/include/ATen`, { recursive: true });
  Deno.mkdirSync(`${dir}/include/torch/csrc/api/include/torch`, { recursive: true });
  Deno.mkdirSync(`${dir}/lib`);
  Deno.writeTextFileSync(`${dir}/include/ATen/ATen.h`, "");
  if (opts.headeronly) {
    // 2.10+: the api folder's version.h only includes the header-only one
    Deno.mkdirSync(`${dir}/include/torch/headeronly`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/include/torch/headeronly/version.h`, numbers);
    Deno.writeTextFileSync(
      `${dir}/include/torch/csrc/api/include/torch/version.h`,
      "#pragma once\n#include <torch/headeronly/version.h>\n",
    );
  } else {
    Deno.writeTextFileSync(`${dir}/include/torch/csrc/api/include/torch/version.h`, numbers);
  }
  Deno.writeTextFileSync(`${dir}/lib/libtorch_cpu.so`, "");
  Deno.writeTextFileSync(`${dir}/lib/libc10.so`, `\x7fELF...${opts.c10}...`);
  if (opts.cuda) Deno.writeTextFileSync(`${dir}/lib/libtorch_cuda.so`, "");
  if (opts.cmakeAbi !== undefined) {
    Deno.mkdirSync(`${dir}/share/cmake/Torch`, { recursive: true });
    Deno.writeTextFileSync(
      `${dir}/share/cmake/Torch/TorchConfig.cmake`,
      `set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${opts.cmakeAbi}")\n`,
    );
  }
}

const NEW_ABI_NAME = "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEC1Ev";
const OLD_ABI_NAME = "_ZNSsC1Ev";

Deno.test("build: a pip PyTorch in a virtualenv is found (torch/include + torch/lib), its ABI read", () => {
  const venv = Deno.makeTempDirSync();
  try {
    const torch = `${venv}/lib/python3.12/site-packages/torch`;
    fakeTorch(torch, { version: "2.6.0", c10: OLD_ABI_NAME, cmakeAbi: 0, cuda: true });
    const lt = withEnv({ LIBTORCH: undefined, VIRTUAL_ENV: venv }, () => findLibtorch());
    assert.equal(lt.source, "pytorch");
    assert.equal(lt.root, torch);
    assert.equal(lt.libDir, `${torch}/lib`);
    assert.equal(lt.version, "2.6.0");
    assert.equal(lt.cuda, true);
    const { compile, link } = compileFlags(lt);
    assert.ok(compile.includes("-D_GLIBCXX_USE_CXX11_ABI=0"), compile.join(" "));
    assert.ok(compile.includes(`-isystem${torch}/include`), compile.join(" "));
    assert.ok(compile.includes(`-isystem${torch}/include/torch/csrc/api/include`));
    assert.ok(link.includes(`-L${torch}/lib`) && link.includes(`-Wl,-rpath,${torch}/lib`));
    assert.deepEqual(
      link.slice(link.indexOf("-ltorch_cuda") - 1, link.indexOf("-ltorch_cuda") + 3),
      [
        "-Wl,--no-as-needed",
        "-ltorch_cuda",
        "-lc10_cuda",
        "-Wl,--as-needed",
      ],
    );
  } finally {
    Deno.removeSync(venv, { recursive: true });
  }
});

Deno.test("build: the C++11 ABI comes from TorchConfig.cmake, else from libc10's mangled names", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const cases: [string, Parameters<typeof fakeTorch>[1], 0 | 1][] = [
      ["cmake 1", { version: "2.7.0", c10: OLD_ABI_NAME, cmakeAbi: 1 }, 1],
      ["cmake 0", { version: "2.4.0", c10: NEW_ABI_NAME, cmakeAbi: 0 }, 0],
      ["new names", { version: "2.8.0", c10: NEW_ABI_NAME }, 1],
      ["old names", { version: "2.3.0", c10: OLD_ABI_NAME }, 0],
    ];
    for (const [name, opts, abi] of cases) {
      const root = `${dir}/${name.replace(" ", "-")}`;
      fakeTorch(root, opts);
      assert.equal(cxx11Abi({ root, libDir: `${root}/lib` }), abi, name);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("build: the loaded shim compiled without a warning (-Wall -Wextra) on this libtorch", async () => {
  const { loadLibrary } = await import("../ffi/mod.ts");
  const loaded = loadLibrary();
  if (Deno.env.get("HLGM_NATIVE_LIB")) return; // built elsewhere
  assert.equal(buildWarnings(loaded.path), "");
  assert.ok(compileFlags(findLibtorch()).compile.includes("-Wextra"));
});

Deno.test("build: PyTorch 2.10+ layouts (torch/headeronly/version.h) are found; 2.12+ builds as C++20", () => {
  const venv = Deno.makeTempDirSync();
  try {
    const torch = `${venv}/lib/python3.13/site-packages/torch`;
    fakeTorch(torch, { version: "2.14.1", c10: NEW_ABI_NAME, cmakeAbi: 1, headeronly: true });
    const lt = withEnv({ LIBTORCH: undefined, VIRTUAL_ENV: venv }, () => findLibtorch());
    assert.equal(lt.version, "2.14.1");
    assert.ok(compileFlags(lt).compile.includes("-std=c++20"));
    assert.deepEqual(
      ["1.13.1", "2.6.0", "2.11.0", "2.12.0", "3.0.0"].map(cxxStandard),
      ["c++17", "c++17", "c++17", "c++20", "c++20"],
    );
  } finally {
    Deno.removeSync(venv, { recursive: true });
  }
});

Deno.test("build: c10d is compiled in only with its headers and Gloo's; otherwise the stubs, without a warning", async () => {
  const root = Deno.makeTempDirSync();
  try {
    // a libtorch without c10d's headers: stubs, and the reason names the header
    fakeTorch(root, { version: "2.6.0", c10: NEW_ABI_NAME });
    const lt = withEnv({ LIBTORCH: root }, () => findLibtorch());
    const none = distributedSupport(lt);
    assert.equal(none.c10d, false);
    assert.match(none.reason, /ProcessGroupGloo\.hpp/);
    assert.ok(!compileFlags(lt).compile.some((f) => f.startsWith("-DHLGM_WITH_")));
    // HLGM_DISTRIBUTED=0 turns it off on this machine's libtorch; the flags (cache key) differ
    const here = findLibtorch();
    const off = withEnv({ HLGM_DISTRIBUTED: "0" }, () => compileFlags(here));
    assert.ok(!off.compile.includes("-DHLGM_WITH_C10D=1"));
    if (distributedSupport(here).c10d) {
      assert.ok(compileFlags(here).compile.includes("-DHLGM_WITH_C10D=1"));
      assert.notEqual(
        withEnv({ HLGM_DISTRIBUTED: "0" }, () => cachedLibraryPath(SHIM_SOURCE_TEXTS, here)),
        cachedLibraryPath(SHIM_SOURCE_TEXTS, here),
      );
    }
    // the stubs compile -Wall -Wextra clean
    const out = await new Deno.Command(Deno.env.get("CXX") || "g++", {
      args: [...off.compile, "-fsyntax-only", new URL("distributed.cpp", nativeDir).pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(out.stderr), "");
    assert.ok(out.success);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

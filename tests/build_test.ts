import assert from "node:assert/strict";
import {
  cachedLibraryPath,
  compileFlags,
  findLibtorch,
  readSources,
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
    Deno.mkdirSync(`${root}/include/ATen`, { recursive: true });
    Deno.mkdirSync(`${root}/include/torch/csrc/api/include/torch`, { recursive: true });
    Deno.mkdirSync(`${root}/lib`);
    Deno.writeTextFileSync(`${root}/include/ATen/ATen.h`, "");
    Deno.writeTextFileSync(
      `${root}/include/torch/csrc/api/include/torch/version.h`,
      "#define TORCH_VERSION_MAJOR 2\n#define TORCH_VERSION_MINOR 5\n#define TORCH_VERSION_PATCH 1\n",
    );
    Deno.writeTextFileSync(`${root}/lib/libtorch_cpu.so`, "");
    Deno.writeTextFileSync(`${root}/lib/libtorch_cuda.so`, "");
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

Deno.test("build: the cache key changes with the sources and the libtorch", async () => {
  const lt = findLibtorch();
  const sources = await readSources(nativeDir);
  assert.deepEqual(Object.keys(sources), [...SHIM_SOURCES]);
  const a = await cachedLibraryPath(sources, lt);
  assert.equal(await cachedLibraryPath(sources, lt), a);
  const edited = { ...sources, "core.cpp": sources["core.cpp"] + "\n// edit\n" };
  assert.notEqual(await cachedLibraryPath(edited, lt), a);
  assert.notEqual(await cachedLibraryPath(sources, { ...lt, version: "9.9.9" }), a);
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

/**
 * Locates, builds if needed, and opens the native shim, on first use: importing the library
 * (mod.ts, the settings tables, `--help`) never needs libtorch. This is the only module that
 * calls `Deno.dlopen`.
 *
 * Location: `HLGM_NATIVE_LIB` when set; otherwise the shim is compiled from its sources (which
 * come with the module graph: native/sources.ts) into a cache folder keyed by the sources' hash
 * and the libtorch version, once.
 *
 * @module
 */

import { ensureShimSync, findLibtorch, type Libtorch } from "../native/build.ts";
import { type Symbols, symbols } from "./symbols.ts";

/** Where the loaded shim came from. */
export interface LoadedLibrary {
  /** Path of the shared library that was opened. */
  path: string;
  /** The libtorch it was built against, when known (not for HLGM_NATIVE_LIB). */
  libtorch?: Libtorch;
}

function locate(): LoadedLibrary {
  const explicit = Deno.env.get("HLGM_NATIVE_LIB");
  if (explicit) return { path: explicit };
  const path = ensureShimSync();
  return { path, libtorch: findLibtorch() };
}

function open(loaded: LoadedLibrary): Deno.DynamicLibrary<typeof symbols> {
  try {
    return Deno.dlopen(loaded.path, symbols);
  } catch (e) {
    const hint = Deno.env.get("HLGM_NATIVE_LIB")
      ? "check HLGM_NATIVE_LIB or unset it to build the shim automatically"
      : "delete the cached build to rebuild it, or run `deno task build:native`";
    throw new Error(`cannot open the hlgm shim ${loaded.path}: ${(e as Error).message} (${hint})`, {
      cause: e,
    });
  }
}

let opened: LoadedLibrary | null = null;

/** Opens the shim (once) and returns where it came from. */
export function loadLibrary(): LoadedLibrary {
  if (opened) return opened;
  const where = locate();
  const real = open(where).symbols;
  // libtorch may start with a single intra-op thread; use every core unless told otherwise
  const fromEnv = Number(Deno.env.get("HLGM_NUM_THREADS") ?? "");
  real.hlgm_set_num_threads(
    Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : navigator.hardwareConcurrency || 1,
  );
  lib = real; // importers' live binding now reaches the functions directly
  opened = where;
  return where;
}

/**
 * The shim's functions. Until the first call this is a stand-in that opens the library on
 * the first property read; from then on it is the opened library's symbol table itself.
 */
export let lib: Symbols = new Proxy({} as Symbols, {
  get(_target, key) {
    loadLibrary();
    return lib[key as keyof Symbols];
  },
});

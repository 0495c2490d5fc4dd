/**
 * Locates, builds if needed, and opens the native shim. This is the only module that calls
 * `Deno.dlopen`.
 *
 * Location: `HLGM_NATIVE_LIB` when set; otherwise the shim is compiled from the sources next to
 * this module (local files, or fetched over HTTP when mod.ts was imported from a URL) into a
 * cache folder keyed by the sources' hash and the libtorch version, once.
 *
 * @module
 */

import { ensureShim, findLibtorch, type Libtorch } from "../native/build.ts";
import { type Symbols, symbols } from "./symbols.ts";

/** Where the loaded shim came from. */
export interface LoadedLibrary {
  /** Path of the shared library that was opened. */
  path: string;
  /** The libtorch it was built against, when known (not for HLGM_NATIVE_LIB). */
  libtorch?: Libtorch;
}

async function locate(): Promise<LoadedLibrary> {
  const explicit = Deno.env.get("HLGM_NATIVE_LIB");
  if (explicit) return { path: explicit };
  const path = await ensureShim(new URL("../native/", import.meta.url));
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

/** Facts about the loaded library. */
export const loaded: LoadedLibrary = await locate();

/** The shim's functions. */
export const lib: Symbols = open(loaded).symbols;

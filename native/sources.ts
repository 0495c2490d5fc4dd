/**
 * The shim's C++ sources as text, imported with the module graph: a project that imports
 * mod.ts from a URL gets them through Deno's module cache with the rest of the code (the same
 * version, offline after the first run); the shim's build cache is keyed by their hash.
 *
 * @module
 */

import compat from "./compat.h" with { type: "text" };
import shim from "./shim.h" with { type: "text" };
import opDispatch from "./op_dispatch.h" with { type: "text" };
import core from "./core.cpp" with { type: "text" };
import ops from "./ops.cpp" with { type: "text" };
import nn from "./nn.cpp" with { type: "text" };
import optim from "./optim.cpp" with { type: "text" };
import masking from "./masking.cpp" with { type: "text" };
import selfcheck from "./selfcheck.cpp" with { type: "text" };
import amp from "./amp.cpp" with { type: "text" };
import cpuCache from "./cpu_cache.cpp" with { type: "text" };
import distributed from "./distributed.cpp" with { type: "text" };

/** Each source file (relative to native/) and its text, in the order they are hashed. */
export const SHIM_SOURCE_TEXTS: Readonly<Record<string, string>> = {
  "compat.h": compat,
  "shim.h": shim,
  "op_dispatch.h": opDispatch,
  "core.cpp": core,
  "ops.cpp": ops,
  "nn.cpp": nn,
  "optim.cpp": optim,
  "masking.cpp": masking,
  "selfcheck.cpp": selfcheck,
  "amp.cpp": amp,
  "cpu_cache.cpp": cpuCache,
  "distributed.cpp": distributed,
};

/** The shim's source files, relative to native/, in the order they are hashed. */
export const SHIM_SOURCES: readonly string[] = Object.keys(SHIM_SOURCE_TEXTS);

/**
 * How the person at the terminal runs hlgm, for messages that suggest a command: `hlgm` when
 * the process was started as the installed command (cli/hlgm.ts, see the README), else
 * `deno run -A <path>/cli/main.ts` with the path as seen from the working directory.
 *
 * @module
 */

import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The command line prefix that runs hlgm here ("hlgm" or "deno run -A cli/main.ts"). */
export function hlgmCommand(): string {
  if (Deno.mainModule.endsWith("/cli/hlgm.ts")) return "hlgm";
  const main = new URL("../../cli/main.ts", import.meta.url);
  if (main.protocol !== "file:") return `deno run -A ${main.href}`;
  let path = fileURLToPath(main);
  try {
    path = relative(Deno.cwd(), path);
  } catch {
    // no working directory (removed): keep the absolute path
  }
  return `deno run -A ${path.includes(" ") ? JSON.stringify(path) : path}`;
}

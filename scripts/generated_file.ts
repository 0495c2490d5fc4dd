/**
 * The write-or-check step shared by the generators (gen-ops.ts, readme-flags.ts): writes the
 * file when its text changed, or with `--check` exits 1 saying how to regenerate it.
 *
 * @module
 */

/** Writes `next` to `path` when it differs; with `--check` in `args` only compares. */
export function writeOrCheck(path: URL, next: string, regenerate: string, args: string[]): void {
  let current = "";
  try {
    current = Deno.readTextFileSync(path);
  } catch {
    // not written yet
  }
  const name = path.pathname.split("/").slice(-2).join("/");
  if (args.includes("--check")) {
    if (current !== next) {
      console.error(`${name} is stale: run ${regenerate}`);
      Deno.exit(1);
    }
  } else if (current !== next) {
    Deno.writeTextFileSync(path, next);
    console.log(`${name} written`);
  }
}

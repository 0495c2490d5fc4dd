/**
 * What is at the paths dataset readers expect files (or folders) at, so that a missing file, a
 * folder where a file belongs, a symbolic link loop or a link to nothing is reported naming
 * that path and what was expected there, instead of the dataset being "not found".
 *
 * @module
 */

/** What a path holds. */
export type EntryKind =
  | "file"
  | "directory"
  | "missing"
  | "loop"
  | "dangling"
  | "other"
  | "unreadable";

/** What {@link probe} found at a path. */
export interface Entry {
  /** The path. */
  path: string;
  /** What it is. */
  kind: EntryKind;
  /** The system's message, for "unreadable"; the link's target, for "dangling". */
  detail?: string;
}

/** What is at `path` (following symbolic links, and telling a loop from a dangling link). */
export function probe(path: string): Entry {
  let link: Deno.FileInfo;
  try {
    link = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return { path, kind: "missing" };
    }
    // a folder on the way is a link loop
    if (e instanceof Deno.errors.FilesystemLoop) return { path, kind: "loop" };
    return { path, kind: "unreadable", detail: (e as Error).message };
  }
  try {
    const s = Deno.statSync(path);
    return { path, kind: s.isFile ? "file" : s.isDirectory ? "directory" : "other" };
  } catch (e) {
    if (e instanceof Deno.errors.FilesystemLoop) return { path, kind: "loop" };
    if (link.isSymlink && e instanceof Deno.errors.NotFound) {
      let target = "?";
      try {
        target = Deno.readLinkSync(path);
      } catch {
        // keep "?"
      }
      return { path, kind: "dangling", detail: target };
    }
    return { path, kind: "unreadable", detail: (e as Error).message };
  }
}

/** True when something (a file, folder, link, even a broken one) is at `path`. */
export function present(path: string): boolean {
  return probe(path).kind !== "missing";
}

/**
 * Why `entry` is not the file `what` describes, as one line naming the path, or null when it
 * is a regular file. `kind` "directory" asks for a folder instead.
 */
export function entryProblem(
  entry: Entry,
  what: string,
  want: "file" | "directory" = "file",
): string | null {
  if (entry.kind === want) return null;
  const p = entry.path;
  const expected = `expected ${what}`;
  switch (entry.kind) {
    case "missing":
      return `${p}: missing (${what})`;
    case "directory":
      return `${p}: is a folder, ${expected}`;
    case "file":
      return `${p}: is a file, ${expected}`;
    case "loop":
      return `${p}: a symbolic link loop (too many levels of links), ${expected}`;
    case "dangling":
      return `${p}: a symbolic link to ${entry.detail}, which does not exist; ${expected}`;
    case "other":
      return `${p}: not a regular file (a device, socket or pipe), ${expected}`;
    case "unreadable":
      return `${p}: cannot be read (${entry.detail}), ${expected}`;
  }
}

/** Throws an Error naming the path unless a regular file (or, with `want`, a folder) is there. */
export function requireEntry(
  path: string,
  what: string,
  want: "file" | "directory" = "file",
): void {
  const problem = entryProblem(probe(path), what, want);
  if (problem) throw new Error(problem);
}

/**
 * The first of `names` in `dir` that is a regular file; else the first one present (whatever
 * it is, so its problem can be reported), else undefined.
 */
export function firstPresent(dir: string, names: readonly string[]): Entry | undefined {
  const entries = names.map((n) => probe(`${dir}/${n}`));
  return entries.find((e) => e.kind === "file") ?? entries.find((e) => e.kind !== "missing");
}

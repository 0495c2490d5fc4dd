/**
 * File-system questions asked in several layers.
 *
 * @module
 */

/** True when something (a file, folder or link target) exists at `path`. */
export function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

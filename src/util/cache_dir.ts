/**
 * hlgm's cache folder (built shims, kernel-check verdicts, decoded dataset caches).
 *
 * @module
 */

/** HLGM_CACHE_DIR, else $XDG_CACHE_HOME/hlgm, else ~/.cache/hlgm. */
export function cacheDir(): string {
  const explicit = Deno.env.get("HLGM_CACHE_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".";
  return `${xdg || `${home}/.cache`}/hlgm`;
}

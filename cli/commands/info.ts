/**
 * `hlgm info`: what libtorch is loaded, from where, with which devices and threads.
 *
 * @module
 */

import { info, type KernelCheck } from "../../mod.ts";

function oneDnnLine(k: KernelCheck): string {
  if (!k.onednnBuilt) return "not built in";
  const err = (e: number | null) => (e === null ? "" : `, conv error ${e.toExponential(1)}`);
  const tail = k.errorWithoutOnednn === null
    ? err(k.error)
    : `${err(k.error)} with oneDNN, ${k.errorWithoutOnednn.toExponential(1)} without`;
  const how = k.kept
    ? `; verdict kept in ${k.verdictFile}`
    : k.rounds > 0
    ? `; decided by ${k.rounds} check${k.rounds === 1 ? "" : "s"}${
      k.verdictFile ? `, kept in ${k.verdictFile}` : ""
    }`
    : "";
  return `${k.onednnEnabled ? "on" : "off"} (${k.decision}${tail}${how})`;
}

/** Prints info() as aligned lines, or JSON with `json`. */
export function runInfo(opts: { json?: boolean }): void {
  const i = info();
  if (opts.json) {
    console.log(JSON.stringify(i, null, 2));
    return;
  }
  const rows: [string, string][] = [
    ["hlgm", i.version],
    [
      "libtorch",
      `${i.libtorchVersion}${
        i.libtorchSource ? ` (${i.libtorchSource}: ${i.libtorchLibDir})` : ""
      }`,
    ],
    ["cuda", i.cudaAvailable ? `yes, ${i.cudaDeviceCount} device(s)` : "no"],
    ["threads", String(i.threads)],
    ["default device", i.defaultDevice],
    ["oneDNN", oneDnnLine(i.kernelCheck)],
    ["shim", i.shimPath],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(15)} ${v}`);
}

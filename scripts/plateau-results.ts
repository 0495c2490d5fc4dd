/**
 * The tables and figures of docs/results.md's first section, from scripts/cifar10-plateau.sh's
 * run folders: per seed, HLGM from its switch against the baseline and SGT forked there, over
 * the same epochs (the window after the switch). Every number is read from the runs'
 * metrics.jsonl and config.json; nothing is typed by hand.
 *
 *   deno run -A scripts/plateau-results.ts [DIR] [--figures OUT] [--records DEST]
 *
 * DIR: the experiment's folder (default ~/.cache/hlgm/experiments/cifar10-plateau), or a copy of
 * its records (docs/results/cifar10-plateau). --figures writes fig2-seedN.svg/.png there.
 * --records copies each run's config.json and metrics.jsonl (and the logs) to DEST first, the
 * records docs/ commits, and reads them from there. Markdown goes to stdout.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { EpochMetrics } from "../src/run_folder/mod.ts";
import { pairedTTest } from "../src/util/stats.ts";
import { accuracyCurveSvg } from "../src/report/charts.ts";
import { svgToPng } from "../src/report/render.ts";
import { openRunDir, type TrainRunInfo } from "../src/train/run_records.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { figures: { type: "string" }, records: { type: "string" } },
  allowPositionals: true,
});
const home = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`;
let dir = positionals[0] ?? `${home}/hlgm/experiments/cifar10-plateau`;
const ARMS = ["hlgm", "baseline", "sgt"] as const;
type Arm = typeof ARMS[number];

if (values.records) {
  const dest = values.records;
  for (const e of Deno.readDirSync(dir)) {
    if (!e.isDirectory || !/^(hlgm|baseline|sgt)-seed\d+$/.test(e.name)) continue;
    Deno.mkdirSync(`${dest}/${e.name}`, { recursive: true });
    for (const f of ["config.json", "metrics.jsonl"]) {
      Deno.copyFileSync(`${dir}/${e.name}/${f}`, `${dest}/${e.name}/${f}`);
    }
  }
  Deno.mkdirSync(`${dest}/logs`, { recursive: true });
  for (const e of Deno.readDirSync(`${dir}/logs`)) {
    if (e.isFile && e.name.endsWith(".log")) {
      Deno.copyFileSync(`${dir}/logs/${e.name}`, `${dest}/logs/${e.name}`);
    }
  }
  dir = dest;
}

/** One seed's three runs, cut to the epochs all three have. */
interface Seed {
  seed: number;
  info: Record<Arm, TrainRunInfo>;
  metrics: Record<Arm, EpochMetrics[]>;
  /** HLGM's last plain epoch. */
  switchEpoch: number;
  /** The last epoch all three runs have. */
  last: number;
}

const seeds: Seed[] = [];
for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
  const m = e.name.match(/^hlgm-seed(\d+)$/);
  if (!m || !ARMS.every((a) => exists(`${dir}/${a}-seed${m[1]}/metrics.jsonl`))) continue;
  const run = (a: Arm) => openRunDir(`${dir}/${a}-seed${m[1]}`);
  const metrics = Object.fromEntries(ARMS.map((a) => [a, run(a).readMetrics()])) as Seed["metrics"];
  const firstMasked = metrics.hlgm.find((x) => x.phase === "sgt");
  if (!firstMasked) continue; // not switched yet
  const last = Math.min(...ARMS.map((a) => metrics[a].length));
  if (last < firstMasked.epoch) continue; // the forks have not trained past the switch yet
  seeds.push({
    seed: Number(m[1]),
    info: Object.fromEntries(ARMS.map((a) => [a, run(a).readInfo()])) as Seed["info"],
    metrics: Object.fromEntries(ARMS.map((a) => [a, metrics[a].slice(0, last)])) as Seed["metrics"],
    switchEpoch: firstMasked.epoch - 1,
    last,
  });
}
seeds.sort((a, b) => a.seed - b.seed);
if (!seeds.length) {
  console.error(`plateau-results: no seed in ${dir} has its three runs past HLGM's switch yet`);
  Deno.exit(1);
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const pct = (v: number | null | undefined) => (v == null ? "-" : (100 * v).toFixed(2));
const pp = (v: number) => (100 * v).toFixed(2);
/** A Markdown table; the first `text` columns are left-aligned, the numbers right. */
const table = (head: string[], rows: string[][], text = 1) =>
  [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, j) => (j >= text ? " ---: " : " --- ")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");

/** What an arm did over a seed's window (the epochs after the switch). */
interface WindowStats {
  mean: number;
  max: number;
  maxEpoch: number;
  final: number;
  /** The window's epoch of highest validation accuracy (the first of ties) and its test acc. */
  selectedEpoch: number;
  selected: number;
}

function windowOf(s: Seed, arm: Arm): EpochMetrics[] {
  return s.metrics[arm].filter((m) => m.epoch > s.switchEpoch);
}

function statsOf(w: EpochMetrics[]): WindowStats {
  const best = w.reduce((a, m) => (m.test_acc > a.test_acc ? m : a));
  const sel = w.reduce((a, m) => ((m.val_acc ?? -1) > (a.val_acc ?? -1) ? m : a));
  return {
    mean: w.reduce((a, m) => a + m.test_acc, 0) / w.length,
    max: best.test_acc,
    maxEpoch: best.epoch,
    final: w[w.length - 1].test_acc,
    selectedEpoch: sel.epoch,
    selected: sel.test_acc,
  };
}

const stats = seeds.map((s) =>
  Object.fromEntries(ARMS.map((a) => [a, statsOf(windowOf(s, a))])) as Record<Arm, WindowStats>
);

// the forks start from HLGM's state at its switch: their records up to it are HLGM's
const samePlain = seeds.map((s) =>
  (["baseline", "sgt"] as const).every((a) =>
    s.metrics[a].slice(0, s.switchEpoch).every((m, i) =>
      m.test_acc === s.metrics.hlgm[i].test_acc && m.train_loss === s.metrics.hlgm[i].train_loss
    ) && s.info[a].forkedFrom?.epoch === s.switchEpoch
  )
);

const out: string[] = [];
const c = seeds[0].info.hlgm.config;
out.push(
  `Seeds ${seeds.map((s) => s.seed).join(", ")}: ${c.model} on ${c.dataset}, ${c.optimizer} lr ` +
    `${c.lr}, batch ${c.batchSize}, ${c.precision ?? "fp32"}${
      c.channelsLast ? ", channels-last" : ""
    }, augmentation ${c.augment === false ? "off" : "on"}; HLGM switches when ${c.monitor} has ` +
    `not improved for ${c.patience} epochs, episodes of ${c.episodeSize}.`,
  "",
);

const modes = (w: EpochMetrics[]) => {
  const count = (mode: string) => w.filter((m) => m.mode === mode).length;
  return `${count("regularize")} r + ${count("denoise")} d`;
};
out.push(
  "Each seed's switch and window (test accuracy, %; the window is every epoch after the switch; " +
    "selected: the window's epoch of highest validation accuracy):",
  "",
  table(
    [
      "seed",
      "switch after epoch",
      "window",
      "hlgm's masked epochs",
      "arm",
      "mean over window",
      "max (epoch)",
      "final",
      "selected (epoch)",
    ],
    seeds.flatMap((s, i) =>
      ARMS.map((a, j) => {
        const st = stats[i][a];
        return [
          j === 0 ? String(s.seed) : "",
          j === 0 ? String(s.switchEpoch) : "",
          j === 0 ? `${s.switchEpoch + 1}-${s.last}` : "",
          j === 0 ? modes(windowOf(s, "hlgm")) : "",
          a === "hlgm" ? "hlgm" : `${a} (forked at the switch)`,
          pct(st.mean),
          `${pct(st.max)} (${st.maxEpoch})`,
          pct(st.final),
          `${pct(st.selected)} (${st.selectedEpoch})`,
        ];
      })
    ),
    5,
  ),
  "",
  `The forks' epochs up to the switch are HLGM's (copied, and their state is HLGM's there): ${
    samePlain.every((x) => x) ? "checked for every seed" : "NOT so for some seed"
  }.`,
  "",
);

// paired by seed: the seed is the unit (a seed's epochs are one trajectory, not independent)
const measures: [keyof WindowStats, string][] = [
  ["mean", "mean test acc over the window"],
  ["max", "max test acc in the window"],
  ["final", "final test acc"],
  ["selected", "test acc at the validation-selected epoch"],
];
const pairs: [Arm, Arm][] = [["hlgm", "baseline"], ["sgt", "baseline"], ["hlgm", "sgt"]];
const rows: string[][] = [];
for (const [a, b] of pairs) {
  for (const [key, label] of measures) {
    const t = pairedTTest(stats.map((s) => s[a][key]), stats.map((s) => s[b][key]));
    rows.push([
      `${a} - ${b}`,
      label,
      pp(t.mean),
      t.ci95 ? `[${pp(t.ci95[0])}, ${pp(t.ci95[1])}]` : "-",
      t.p === null ? "-" : t.p.toFixed(3),
      stats.map((s) => pp(s[a][key] - s[b][key])).join(", "),
    ]);
  }
}
out.push(
  `Paired by seed (n = ${seeds.length}): the mean difference in percentage points, its 95% ` +
    `Student t interval, the two-sided paired t test, and each seed's difference. ${rows.length} tests are shown; at most one in twenty would reach p < 0.05 by chance if no arm differed, ` +
    "so no single p below 0.05 here is a finding by itself.",
  "",
  table(["pair", "measure", "mean difference (pp)", "95% CI", "p", "per seed (pp)"], rows, 2),
  "",
);

// every epoch of the window, HLGM against the baseline continuing
out.push(
  "Epoch by epoch in the window (HLGM minus the baseline, test accuracy, pp): the mean, the " +
    "range, and the epochs where HLGM is ahead:",
  "",
  table(
    ["seed", "epochs", "mean", "min", "max", "hlgm ahead"],
    seeds.map((s) => {
      const h = windowOf(s, "hlgm"), b = windowOf(s, "baseline");
      const d = h.map((m, i) => m.test_acc - b[i].test_acc);
      return [
        String(s.seed),
        String(d.length),
        pp(d.reduce((x, y) => x + y, 0) / d.length),
        pp(Math.min(...d)),
        pp(Math.max(...d)),
        `${d.filter((x) => x > 0).length} of ${d.length}`,
      ];
    }),
  ),
  "",
);
console.log(out.join("\n"));

if (values.figures) {
  Deno.mkdirSync(values.figures, { recursive: true });
  for (const s of seeds) {
    const svg = accuracyCurveSvg(s.metrics.hlgm, {
      title:
        `seed ${s.seed}: HLGM, and the baseline and SGT forked at its switch (epoch ${s.switchEpoch})`,
      val: false,
      others: [
        { label: "baseline test accuracy", metrics: s.metrics.baseline, color: "#000000" },
        // brown: apart from the masked-input training curve's blue
        { label: "sgt from the switch, test accuracy", metrics: s.metrics.sgt, color: "#8c564b" },
      ],
    });
    const base = `${values.figures}/fig2-seed${s.seed}`;
    Deno.writeTextFileSync(`${base}.svg`, svg);
    Deno.writeFileSync(`${base}.png`, await svgToPng(svg));
  }
}

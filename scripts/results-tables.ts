/**
 * The Markdown tables of docs/results.md's CIFAR-10 section, from a compare folder
 * (scripts/cifar10-cpu.sh's, by default runs/cifar10-cpu): Table II beside the paper's, every
 * run (its switch, what each masked epoch did), the epochs after HLGM's switch against the same
 * seed's baseline continuing plain, and compare.json's paired differences. Nothing is typed by
 * hand: every number is read from compare.json or the runs' metrics.jsonl.
 *
 *   deno run -A scripts/results-tables.ts [COMPARE_DIR]
 *
 * @module
 */

import { openRunDir } from "../src/train/run_records.ts";

const dir = Deno.args[0] ?? "runs/cifar10-cpu";
const json = JSON.parse(Deno.readTextFileSync(`${dir}/compare.json`));
const pct = (v: number | null | undefined) => (v == null ? "-" : (100 * v).toFixed(2));
const table = (head: string[], rows: string[][], right = (j: number) => j > 0) =>
  [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, j) => (right(j) ? " ---: " : " --- ")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");

/** The paper's Table II row for the shallow CNN on CIFAR-10 ("2 Level Conv"). */
const PAPER: Record<string, string> = { baseline: "74.13", sgt: "73.34", hlgm: "74.72" };

interface Run {
  method: string;
  seed: number;
  dir: string;
  switch_epoch?: number | null;
  max_test_acc: number;
  max_test_epoch: number;
  final_test_acc: number;
  checkpoint_epoch: number | null;
  checkpoint_test_acc: number | null;
  after_switch_test_acc?: number | null;
  plain_matches_baseline?: boolean | null;
}
const runs: Run[] = json.runs;
// each run's folder beside compare.json (so a copy of the folder, e.g. docs/results/, reads too)
const runDir = (r: Run) => `${dir}/${r.dir.split("/").pop()}`;
const metrics = (r: Run) => openRunDir(runDir(r)).readMetrics();
const sd = (s: { mean: number; sd: number | null }) =>
  s.sd === null ? pct(s.mean) : `${pct(s.mean)} ± ${pct(s.sd)}`;

const out: string[] = [];
out.push(
  `Table II (test accuracy, %, mean ± sd over seeds ${
    json.seeds.join(", ")
  }; the paper: one run, ` +
    "100 epochs):",
  "",
  table(
    ["method", "paper", "max", "final", `${json.checkpoint} checkpoint`],
    json.methods.map((m: string) => [
      m,
      PAPER[m] ?? "-",
      sd(json.table2[m].max_test_acc),
      sd(json.table2[m].final_test_acc),
      sd(json.table2[m].checkpoint_test_acc),
    ]),
  ),
  "",
);

const code = (mode: string) => ({ regularize: "r", denoise: "d", sgt: "s", plain: "p" })[mode];
out.push(
  "Every run (epoch in brackets; masked epochs: r = regularize, d = denoise, with k):",
  "",
  table(
    ["run", "switch after", "how", "epochs after the switch", "max", "final", "checkpoint"],
    runs.map((r) => {
      const m = metrics(r);
      const sw = r.switch_epoch;
      // the plateau rule or switch-by: a plateau is `patience` epochs with no new best val_acc
      const cfg = JSON.parse(Deno.readTextFileSync(`${runDir(r)}/config.json`)).config;
      let how = "-";
      if (sw != null) {
        const best = Math.max(...m.slice(0, sw - cfg.patience).map((x) => x.val_acc ?? 0));
        const plateau = m.slice(sw - cfg.patience, sw).every((x) => (x.val_acc ?? 0) <= best);
        how = plateau
          ? `plateau (${cfg.patience} epoch${cfg.patience === 1 ? "" : "s"})`
          : `switch-by ${cfg.switchBy}`;
      }
      return [
        `${r.method} seed ${r.seed}`,
        sw === undefined ? "-" : sw === null ? "never" : String(sw),
        how,
        sw == null ? "-" : m.slice(sw).map((x) => `${code(x.mode)}${x.k}`).join(" "),
        `${pct(r.max_test_acc)} (${r.max_test_epoch})`,
        pct(r.final_test_acc),
        `${pct(r.checkpoint_test_acc)} (${r.checkpoint_epoch ?? "-"})`,
      ];
    }),
    (j) => j >= 4,
  ),
  "",
);

out.push(
  "After HLGM's switch, seed by seed (test accuracy, %): the baseline continuing plain from the " +
    "same weights against HLGM masking (and SGT, masking from epoch 1, over the same epochs):",
  "",
  table(
    [
      "seed",
      "switch",
      "plain = baseline's",
      "baseline",
      "hlgm",
      "mean baseline",
      "mean sgt",
      "mean hlgm",
    ],
    json.seeds.map((seed: number) => {
      const of = (m: string) => runs.find((r) => r.method === m && r.seed === seed);
      const h = of("hlgm"), b = of("baseline"), s = of("sgt");
      const sw = h?.switch_epoch ?? null;
      const after = (r: Run | undefined) =>
        r && sw !== null ? metrics(r).slice(sw).map((x) => (100 * x.test_acc).toFixed(1)) : [];
      return [
        String(seed),
        String(sw ?? "-"),
        h?.plain_matches_baseline == null ? "-" : h.plain_matches_baseline ? "yes" : "no",
        after(b).join(", "),
        after(h).join(", "),
        pct(b?.after_switch_test_acc),
        pct(s?.after_switch_test_acc),
        pct(h?.after_switch_test_acc),
      ];
    }),
    (j) => j !== 3 && j !== 4,
  ),
  "",
);

const label: Record<string, string> = {
  max_test_acc: "max test acc",
  final_test_acc: "final test acc",
  checkpoint_test_acc: `${json.checkpoint} checkpoint test acc`,
  after_switch_test_acc: "mean test acc after hlgm's switch",
};
out.push(
  "Paired differences against the baseline (percentage points; 95% t interval and two-sided " +
    "paired t test over the seeds, from compare.json):",
  "",
  table(
    ["pair", "metric", "mean difference", "95% interval", "p", "per seed"],
    json.paired.map((c: {
      method: string;
      against: string;
      metric: string;
      seeds: number[];
      test: { mean: number; ci95: [number, number] | null; p: number | null };
    }) => [
      `${c.method} - ${c.against}`,
      label[c.metric] ?? c.metric,
      (100 * c.test.mean).toFixed(2),
      c.test.ci95
        ? `[${(100 * c.test.ci95[0]).toFixed(2)}, ${(100 * c.test.ci95[1]).toFixed(2)}]`
        : "-",
      c.test.p === null ? "-" : c.test.p.toFixed(3),
      c.seeds.map((seed) => {
        const v = (m: string) =>
          (runs.find((r) => r.method === m && r.seed === seed) as unknown as Record<
            string,
            number
          >)[
            c.metric
          ];
        return (100 * (v(c.method) - v(c.against))).toFixed(2);
      }).join(", "),
    ]),
    (j) => j >= 2 && j <= 4,
  ),
);
console.log(out.join("\n"));

/**
 * The faithfulness plots of scored runs (faith.json's mean curves): deletion and insertion
 * (probability of the label against the fraction of pixels changed) and the randomisation check
 * (Spearman against the layers randomised), each run a mean curve with its 95% band. `hlgm
 * faith` writes them; the report shows them.
 *
 * @module
 */

import { bandCurveSvg } from "./band_chart.ts";

/** A mean curve of faith.json. */
export interface FaithCurve {
  /** The x values (fractions) or layer names. */
  x: (number | string)[];
  /** Mean per point. */
  mean: number[];
  /** 95% interval per point. */
  ci95: ([number, number] | null)[];
}

/** A scored run as the plots need it. */
export interface FaithPlotRun {
  /** Legend text. */
  name: string;
  /** Images scored. */
  n: number;
  /** Attribution method. */
  method: string;
  /** Its mean curves. */
  curves: Partial<Record<"deletion" | "insertion" | "randomisation", FaithCurve>>;
}

/** The plots the first run has curves for (every run must have them), as [file stem, SVG]. */
export function faithPlots(runs: readonly FaithPlotRun[], datasetName: string): [string, string][] {
  const out: [string, string][] = [];
  const { n, method } = runs[0];
  for (const mode of ["deletion", "insertion"] as const) {
    const curve = runs[0].curves[mode];
    if (!curve || runs.some((r) => !r.curves[mode])) continue;
    out.push([
      `faith_${mode}`,
      bandCurveSvg(
        runs.map((r) => ({ label: r.name, ...r.curves[mode]! })),
        {
          title: `${mode === "deletion" ? "Deletion" : "Insertion"} (${method}, ${n} ` +
            `${datasetName} test images; mean, 95% band)`,
          x: curve.x,
          xLabel: `fraction of pixels ${mode === "deletion" ? "removed" : "inserted"}`,
          yLabel: "probability of the label",
        },
      ),
    ]);
  }
  const rand = runs[0].curves.randomisation;
  if (rand && runs.every((r) => r.curves.randomisation?.x.join() === rand.x.join())) {
    out.push([
      "faith_randomisation",
      bandCurveSvg(
        runs.map((r) => ({ label: r.name, ...r.curves.randomisation! })),
        {
          title: `Cascading randomisation (${method}, ${n} ${datasetName} test images)`,
          x: rand.x,
          xLabel: "randomised down to layer",
          yLabel: "Spearman rho with the trained map",
        },
      ),
    ]);
  }
  return out;
}

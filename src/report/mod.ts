/**
 * Plots and reports: accuracy/loss curves with the training phases shaded (Fig. 2), saliency
 * grids (Fig. 6), SIB box plots and paired scatter (Fig. 8) as SVG, SVG to PNG, the HTML report
 * of run folders.
 *
 * @module
 */

export {
  accuracyCurveSvg,
  type BoxGroup,
  type BoxPlotOptions,
  boxPlotSvg,
  type CurveMetrics,
  type CurveOptions,
  lossCurveSvg,
  type OverlayCurve,
  type PairedScatterOptions,
  pairedScatterSvg,
  type PhaseBand,
  phaseBands,
  type ScatterSeries,
  testAccuracyComparisonSvg,
} from "./charts.ts";
export {
  type Colormap,
  colormap,
  datasetImage,
  drawBox,
  encodePng,
  type GridRow,
  heatmapImage,
  type ImageGridOptions,
  imageGridSvg,
  normalizeSaliency,
  overlayImage,
  type RgbImage,
  upscale,
} from "./images.ts";
export { loadSvgRenderer, svgToPng, type SvgToPngOptions } from "./render.ts";
export {
  type SaliencyGridOptions,
  saliencyGridSvg,
  type SaliencyPanel,
  saliencyPanels,
} from "./saliency_grid.ts";
export { accuracyStats, type RunSummary, summarizeRun, uniqueRunNames } from "./summary.ts";
export { type ReportOptions, type ReportResult, writeReport } from "./report.ts";

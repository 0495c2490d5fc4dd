/**
 * Rendering only (data in, pictures and pages out): accuracy/loss curves with the training
 * phases shaded (Fig. 2), the one raster grid of images (dataset grids and the saliency figure,
 * Fig. 6), SIB box plots and paired scatter (Fig. 8) as SVG, SVG to PNG, tables, the HTML
 * report page.
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
  checkColormap,
  type Colormap,
  colormap,
  COLORMAPS,
  DEFAULT_COLORMAP,
  normalizeAttribution,
} from "./colormap.ts";
export { encodePng, type RgbImage } from "./png.ts";
export { loadSvgRenderer, svgToPng, type SvgToPngOptions } from "./render.ts";
export {
  type Panel,
  type PanelGridLayout,
  type PanelGridOptions,
  panelGridSize,
  renderPanelGrid,
} from "./panel_grid.ts";
export { type GridLayout, type GridOptions, renderGrid } from "./dataset_grid.ts";
export {
  defaultScale,
  type FigureImage,
  type FigureRun,
  renderSaliencyFigure,
  SALIENCY_PANELS,
  type SaliencyFigureOptions,
  saliencyFigureSize,
  type SaliencyPanelMode,
  topMask,
} from "./saliency_figure.ts";
export { type HeatmapData, heatmapSvg } from "./heatmap_chart.ts";
export {
  checkpointLabel,
  formatSibTable,
  htmlTable,
  type RunSummary,
  saliencySignLabel,
  type SibColumn,
  sibTableHtml,
  summaryTableHtml,
} from "./tables.ts";
export {
  type PngFigure,
  renderReport,
  type ReportFiles,
  type ReportPage,
  type ReportRun,
  type ReportSib,
  type ReportSweep,
} from "./report.ts";

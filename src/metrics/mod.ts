/**
 * Localisation metrics of saliency maps: SIB, top-k intersection, pointing game, relevance
 * mass accuracy, and their summaries.
 *
 * @module
 */

export { type BatchBoxes, type Box, boxMask } from "./boxes.ts";
export {
  boxFraction,
  DEFAULT_SIB_PERCENTS,
  pointingGame,
  relevanceMassAccuracy,
  sib,
  sibCount,
  summarize,
  type Summary,
  topKIntersection,
} from "./sib.ts";

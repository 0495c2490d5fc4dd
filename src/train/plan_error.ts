/**
 * Why the planner refuses what was asked of a run folder ({@link RunPlanError}); a file of its
 * own, so that the fork's planning (fork_plan.ts) and run_plan.ts share it.
 *
 * @module
 */

import {
  LIBRARY_VOCABULARY,
  type Renderable,
  type Vocabulary,
  type Words,
} from "../util/vocabulary.ts";

/**
 * Why a folder cannot take what was asked: "not-a-run" (no config.json to go on from),
 * "bad-record" (config.json is not what hlgm writes), "holds-run" (results where a new run was
 * asked), "no-checkpoint" (nothing to continue from), "unusable-checkpoint" (last.json and every
 * checkpoint fail to load), "other-settings" (a run with other settings), "source-busy" (a fork's
 * source is being trained, so its last checkpoint moves on), "no-switch" (a fork at the switch of
 * a run that has none: not hlgm, or not switched yet).
 */
export type RunRefusal =
  | "not-a-run"
  | "bad-record"
  | "holds-run"
  | "no-checkpoint"
  | "unusable-checkpoint"
  | "other-settings"
  | "source-busy"
  | "no-switch";

/**
 * A run folder that cannot take what was asked; the message says what to do, in the library's
 * words ({@link RunPlanError.render}: in another vocabulary).
 */
export class RunPlanError extends Error implements Renderable {
  /** Why. */
  readonly refusal: RunRefusal;
  readonly #words: Words;

  /** An error for `refusal`; `message` is fixed text or text in any vocabulary. */
  constructor(refusal: RunRefusal, message: string | Words, options?: ErrorOptions) {
    const words: Words = typeof message === "string" ? () => message : message;
    super(words(LIBRARY_VOCABULARY), options);
    this.name = "RunPlanError";
    this.refusal = refusal;
    this.#words = words;
  }

  /** The message in vocabulary `v`. */
  render(v: Vocabulary): string {
    return this.#words(v);
  }
}

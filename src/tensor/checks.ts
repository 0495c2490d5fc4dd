/**
 * Cheap checks of values where they enter an algorithm: one native reduction and one scalar
 * read; the details (how many, where) are computed only when the check fails.
 *
 * @module
 */

import { noGrad } from "./autograd.ts";
import { tidy } from "./engine.ts";
import type { Tensor } from "./tensor.ts";

/**
 * Throws a RangeError when `t` holds NaN: "`what` holds N NaN of its M values (first in
 * sample i)" followed by `why`. Samples are along dim 0. One reduction when all is well.
 */
export function assertNoNaN(t: Tensor, what: string, why = ""): void {
  noGrad(() =>
    tidy(() => {
      if (t.numel() === 0 || t.isnan().any().item() === 0) return;
      const nan = t.isnan();
      const count = nan.sum().item();
      const first = t.ndim > 0
        ? (nan.reshape(t.shape[0], -1).any(1).to("uint8").data() as Uint8Array).indexOf(1)
        : -1;
      throw new RangeError(
        `${what} [${t.shape.join(", ")}] holds ${count} NaN of its ${t.numel()} values` +
          `${first >= 0 ? ` (first in sample ${first})` : ""}${why ? `: ${why}` : ""}`,
      );
    })
  );
}

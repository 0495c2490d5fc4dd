/**
 * Object boxes as pixel masks, batched on the device.
 *
 * @module
 */

import { tensor } from "../tensor/create.ts";
import { tidy } from "../tensor/engine.ts";
import { Tensor } from "../tensor/tensor.ts";

/** One box [x0, y0, x1, y1] in pixels (x1, y1 exclusive). */
export type Box = readonly [number, number, number, number];

/** Boxes for a batch: a (B, 4) or (B, K, 4) tensor (NaN rows unused), or a list per image. */
export type BatchBoxes = Tensor | readonly (readonly Box[])[] | readonly Box[];

/** Boxes as a (B, K, 4) float tensor on `device`, checked against the image size. */
function boxTensor(boxes: BatchBoxes, batch: number, h: number, w: number, device: string): Tensor {
  let t: Tensor;
  if (boxes instanceof Tensor) {
    t = boxes.ndim === 2 ? boxes.unsqueeze(1) : boxes.detach();
  } else {
    const lists = (boxes as readonly unknown[]).map((b) =>
      Array.isArray(b) && typeof b[0] === "number" ? [b as unknown as Box] : (b as readonly Box[])
    );
    const k = Math.max(1, ...lists.map((l) => l.length));
    const flat = lists.flatMap((l) => [...l.flat(), ...new Array((k - l.length) * 4).fill(NaN)]);
    t = tensor(flat, { shape: [lists.length, k, 4], device: device as "cpu" });
  }
  if (t.ndim !== 3 || t.shape[0] !== batch || t.shape[2] !== 4) {
    throw new RangeError(
      `boxes must be (B, 4) or (B, K, 4) for B = ${batch}, got [${t.shape.join(", ")}]`,
    );
  }
  // every image needs at least one usable box inside the image
  const v = t.to({ device: "cpu", dtype: "float64" }).data() as Float64Array;
  const k = t.shape[1];
  for (let i = 0; i < batch; i++) {
    let usable = false;
    for (let j = 0; j < k; j++) {
      const [x0, y0, x1, y1] = v.subarray((i * k + j) * 4, (i * k + j) * 4 + 4);
      if (Number.isNaN(x0)) continue;
      if (!(x1 > x0 && y1 > y0)) {
        throw new RangeError(`image ${i}: empty box [${x0}, ${y0}, ${x1}, ${y1}]`);
      }
      if (x1 <= 0 || y1 <= 0 || x0 >= w || y0 >= h) {
        throw new RangeError(
          `image ${i}: box [${x0}, ${y0}, ${x1}, ${y1}] lies outside the ${w}x${h} image`,
        );
      }
      usable = true;
    }
    if (!usable) throw new RangeError(`image ${i} has no box`);
  }
  return t.to({ device: device as "cpu", dtype: "float32" });
}

/**
 * Bool (B, H, W): true for pixels whose centre lies in any of the image's boxes (the union).
 * Empty boxes, boxes entirely outside the image, and images without a box are errors.
 */
export function boxMask(
  boxes: BatchBoxes,
  batch: number,
  h: number,
  w: number,
  device = "cpu",
): Tensor {
  return tidy(() => {
    const b = boxTensor(boxes, batch, h, w, device);
    const k = b.shape[1];
    const xs = tensor(Float32Array.from({ length: w }, (_, i) => i + 0.5), {
      device: device as "cpu",
    }).reshape(1, 1, 1, w);
    const ys = tensor(Float32Array.from({ length: h }, (_, i) => i + 0.5), {
      device: device as "cpu",
    }).reshape(1, 1, h, 1);
    const c = (i: number) => b.select(2, i).reshape(batch, k, 1, 1);
    // NaN boxes compare false everywhere
    const inside = xs.ge(c(0)).logicalAnd(xs.lt(c(2))).logicalAnd(ys.ge(c(1))).logicalAnd(
      ys.lt(c(3)),
    );
    return inside.any(1);
  });
}

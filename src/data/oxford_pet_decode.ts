/**
 * The per-image work of the Oxford-IIIT Pet reader, run in worker threads (or inline): read
 * and decode one image, resize it to planar RGB, and (when asked) read its trimap and find
 * the pet's bounding box in the original image's pixels.
 *
 * @module
 */

import { decodeImage, decodePng, resizeToChw } from "./image_codec.ts";

/** One image to decode. */
export interface PetTask {
  /** Position in the split (results carry it back). */
  index: number;
  /** Image file path. */
  image: string;
  /** Trimap file path, when the pet box is needed. */
  trimap: string | null;
  /** Output size (square). */
  size: number;
}

/** A decoded image, or why it could not be. */
export type PetResult =
  | {
    index: number;
    ok: true;
    /** 3 * size * size bytes, planar RGB. */
    pixels: Uint8Array;
    /** Original width and height. */
    width: number;
    height: number;
    /**
     * [x0, y0, x1, y1) of the trimap's pet (1) and border (3) pixels in original pixels;
     * null when no trimap was asked for, or it has no such pixel.
     */
    petBox: [number, number, number, number] | null;
  }
  | { index: number; ok: false; file: string; message: string };

async function readBytes(file: string, what: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${file}: ${what} is missing`);
    throw new Error(`${file}: cannot read ${what} (${(e as Error).message})`);
  }
}

class FileError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
  }
}

/**
 * The pet box of a trimap (values 1 pet, 2 background, 3 border): the bounding box of the
 * pixels that are 1 or 3, as [x0, y0, x1, y1) in pixels, or null when there are none. Throws
 * for any other value.
 */
function trimapBox(
  values: Uint8Array,
  width: number,
  height: number,
  stride: number,
  file: string,
): [number, number, number, number] | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    let p = y * width * stride;
    for (let x = 0; x < width; x++, p += stride) {
      const v = values[p];
      if (v === 2) continue;
      if (v !== 1 && v !== 3) {
        throw new Error(
          `${file}: trimap value ${v} at (${x}, ${y}); expected 1 pet, 2 background, 3 border`,
        );
      }
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

/** Decodes one image (and its trimap). Failures come back as results naming the file. */
export async function decodePetTask(task: PetTask): Promise<PetResult> {
  try {
    const bytes = await readBytes(task.image, "image");
    let img;
    try {
      img = await decodeImage(bytes, task.image);
    } catch (e) {
      throw new FileError(task.image, (e as Error).message);
    }
    let petBox: [number, number, number, number] | null = null;
    if (task.trimap) {
      const file = task.trimap;
      try {
        const png = decodePng(await readBytes(file, "trimap"), file);
        if (png.width !== img.width || png.height !== img.height) {
          throw new Error(
            `${file}: trimap is ${png.width}x${png.height}, its image ${task.image} is ` +
              `${img.width}x${img.height}`,
          );
        }
        petBox = trimapBox(png.data, png.width, png.height, png.channels, file);
      } catch (e) {
        throw new FileError(file, (e as Error).message);
      }
    }
    const pixels = resizeToChw(img, task.size, task.size);
    return { index: task.index, ok: true, pixels, width: img.width, height: img.height, petBox };
  } catch (e) {
    const file = e instanceof FileError ? e.file : task.image;
    return { index: task.index, ok: false, file, message: (e as Error).message };
  }
}

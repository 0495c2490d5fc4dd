/**
 * One entry point for a file of model weights, whatever its format: a `.safetensors` file or a
 * PyTorch `.pt`/`.pth` file (`torch.save`'s ZIP format, read weights-only), told apart by their
 * first bytes rather than by their names.
 *
 * @module
 */

import type { Device } from "../tensor/device.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { CheckpointError, type CheckpointSource, openSource } from "./io.ts";
import { loadSafetensors } from "./safetensors.ts";
import { loadTorchFile } from "./torch_pt.ts";

/** The formats of weight files: safetensors, or PyTorch's ZIP checkpoint. */
export type WeightsFormat = "safetensors" | "pt";

/**
 * The format of a weights file from its first bytes: a ZIP archive is a PyTorch checkpoint, an
 * 8-byte length followed by `{` a safetensors file. Throws a CheckpointError naming the file
 * for anything else, with a hint for PyTorch's pre-1.6 format (a bare pickle).
 */
export function weightsFormat(source: CheckpointSource): WeightsFormat {
  const src = openSource(source);
  try {
    if (src.size < 9) {
      throw new CheckpointError(src.name, `only ${src.size} bytes: not a weights file`);
    }
    const head = src.read(0, 9, "the first bytes");
    if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return "pt";
    if (head[8] === 0x7b) return "safetensors";
    if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) {
      throw new CheckpointError(
        src.name,
        "PyTorch's legacy (before 1.6) torch.save format, which hlgm does not read; re-save it " +
          "with a current PyTorch: torch.save(torch.load(old), new)",
      );
    }
    throw new CheckpointError(
      src.name,
      "neither a safetensors file nor a PyTorch .pt/.pth checkpoint (torch.save's ZIP format)",
    );
  } finally {
    src.close();
  }
}

/** A weights file's tensors by name, and its format. */
export interface WeightsFile {
  /** The file's format. */
  format: WeightsFormat;
  /** The tensors (the caller disposes them). */
  tensors: Map<string, Tensor>;
}

/**
 * Loads the tensors of a weights file, `.safetensors` or `.pt`/`.pth` (a state dict, or a
 * training checkpoint that wraps one under "state_dict", "model_state_dict", "model" or
 * "module", as {@link loadTorchFile} reads it). Errors name the file.
 */
export function loadWeightsFile(
  path: string | URL,
  options: { device?: Device } = {},
): WeightsFile {
  const format = weightsFormat(path);
  const tensors = format === "pt"
    ? loadTorchFile(path, { device: options.device })
    : loadSafetensors(path, { device: options.device }).tensors;
  return { format, tensors };
}

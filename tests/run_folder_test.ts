/**
 * The run-folder layer on its own: RunDir checks config.json's settings with the check it is
 * handed (it does not know the settings), and its checkpoint store answers what a listing
 * shows without loading anything.
 */
import assert from "node:assert/strict";
import { RunDir } from "../src/run_folder/mod.ts";
import { openRunDir } from "../src/train/run_records.ts";

const data = { train: 4, val: 0, test: 2, classes: ["a", "b"], shape: [1, 2, 2] };

function folderWith(config: unknown): string {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify({ config, data }));
  return dir;
}

Deno.test("run folder: config.json's settings are checked by the check handed in, named with the file", () => {
  const dir = folderWith({ colour: "red" });
  try {
    const seen: unknown[] = [];
    const rd = new RunDir<{ colour: string }>(dir, (c) => {
      seen.push(c);
      return c.colour === "red" ? ["colour must not be red"] : [];
    });
    assert.throws(() => rd.readInfo(), {
      message: `${dir}/config.json: "config": colour must not be red`,
    });
    assert.deepEqual(seen, [{ colour: "red" }]);
    // the same file passes a check that accepts it, typed as the caller says
    const info = new RunDir<{ colour: string }>(dir, () => []).readInfo();
    assert.equal(info.config.colour, "red");
    // the engine's check: the training settings table's
    assert.throws(() => openRunDir(dir).readInfo(), {
      message: `${dir}/config.json: "config": unknown setting "colour"`,
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("run folder: the checkpoint store's listing view (a written checkpoint, the best pointer) reads no weights", () => {
  const dir = folderWith({});
  try {
    const store = new RunDir(dir, () => []).checkpoints;
    assert.equal(store.folder, `${dir}/checkpoints`);
    assert.equal(store.hasLast(), false);
    assert.equal(store.pointerRecord("best"), null);
    Deno.mkdirSync(store.folder);
    Deno.writeTextFileSync(`${store.folder}/last.json`, "{}");
    Deno.writeTextFileSync(
      `${store.folder}/best.json`,
      JSON.stringify({ epoch: 3, weights: "epoch-0003.safetensors", metric: "val_acc" }),
    );
    Deno.writeTextFileSync(`${store.folder}/best-after-switch.json`, "not json");
    assert.equal(store.hasLast(), true);
    assert.deepEqual(store.pointerRecord("best"), { epoch: 3, metric: "val_acc" });
    assert.equal(store.pointerRecord("best-after-switch"), null);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// Logs other tools read: metrics.csv beside metrics.jsonl, TensorBoard event files, `hlgm runs`.
import assert from "node:assert/strict";
import { crc32c } from "../src/util/bytes.ts";
import { eventBytes, maskedCrc32c, tfRecord } from "../src/train/tensorboard.ts";
import { runCli } from "./helpers.ts";

const cli = (args: string[]) => runCli(args, { HLGM_NUM_THREADS: "2", NO_COLOR: "1" });

// ---- an independent reader: TFRecord framing and the protocol-buffer wire format

function readRecords(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const length = Number(view.getBigUint64(at, true));
    assert.equal(
      view.getUint32(at + 8, true),
      maskedCrc32c(bytes.subarray(at, at + 8)),
      "length CRC",
    );
    const data = bytes.subarray(at + 12, at + 12 + length);
    assert.equal(view.getUint32(at + 12 + length, true), maskedCrc32c(data), "data CRC");
    out.push(data);
    at += 16 + length;
  }
  return out;
}

type Field = { field: number; wire: number; value: bigint | Uint8Array | number };

function fields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Field[] = [];
  let at = 0;
  const varint = () => {
    let v = 0n, shift = 0n;
    for (;;) {
      const b = bytes[at++];
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const [field, wire] = [key >> 3, key & 7];
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) out.push({ field, wire, value: view.getFloat64((at += 8) - 8, true) });
    else if (wire === 5) out.push({ field, wire, value: view.getFloat32((at += 4) - 4, true) });
    else if (wire === 2) {
      const n = Number(varint());
      out.push({ field, wire, value: bytes.subarray(at, at += n) });
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

/** An Event as TensorBoard reads it: step, file_version or the scalars of its summary. */
function decodeEvent(bytes: Uint8Array) {
  const f = fields(bytes);
  const get = (n: number) => f.find((x) => x.field === n)?.value;
  const text = (b: unknown) => new TextDecoder().decode(b as Uint8Array);
  const scalars: Record<string, number> = {};
  const summary = get(5);
  if (summary) {
    for (const v of fields(summary as Uint8Array).filter((x) => x.field === 1)) {
      const vf = fields(v.value as Uint8Array);
      scalars[text(vf.find((x) => x.field === 1)!.value)] = vf.find((x) => x.field === 2)!
        .value as number;
    }
  }
  return {
    wallTime: get(1) as number,
    step: Number(get(2) ?? 0n),
    fileVersion: get(3) ? text(get(3)) : undefined,
    scalars,
  };
}

Deno.test("tensorboard: CRC-32C and TFRecord framing match the published values", () => {
  const ascii = (s: string) => new TextEncoder().encode(s);
  // RFC 3720 (iSCSI) B.4 test vectors, and the usual check value
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(ascii("123456789")), 0xe3069283);
  // the mask: rotate right 15, add 0xa282ead8 (TensorFlow's crc32c::Mask)
  const c = crc32c(ascii("hlgm"));
  assert.equal(maskedCrc32c(ascii("hlgm")), ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
  const rec = tfRecord(ascii("abc"));
  assert.equal(rec.length, 8 + 4 + 3 + 4);
  assert.deepEqual(readRecords(rec).map((r) => new TextDecoder().decode(r)), ["abc"]);
  const ev = decodeEvent(
    eventBytes(1.5, 7, { scalars: { "loss/train": 0.25, "accuracy/test": 0.875 } }),
  );
  assert.deepEqual(ev, {
    wallTime: 1.5,
    step: 7,
    fileVersion: undefined,
    scalars: { "loss/train": 0.25, "accuracy/test": 0.875 },
  });
});

Deno.test("logs: a run with --tensorboard writes metrics.csv and event files equal to metrics.jsonl", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-logs-" });
  try {
    const run = `${root}/runs/a`;
    const r = await cli([
      "train",
      "--dataset",
      "synthetic",
      "--subset",
      "600",
      "--device",
      "cpu",
      "--epochs",
      "3",
      "--switch-epoch",
      "1",
      "--tensorboard",
      "--out",
      run,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = Deno.readTextFileSync(`${run}/metrics.jsonl`).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    // metrics.csv: the same numbers, one row per epoch, empty cells for null
    const [header, ...rows] = Deno.readTextFileSync(`${run}/metrics.csv`).trim().split("\n").map((
      l,
    ) => l.split(","));
    assert.deepEqual(header, Object.keys(lines[0]));
    assert.equal(rows.length, 3);
    rows.forEach((row, i) =>
      header.forEach((h, j) =>
        assert.equal(
          row[j],
          lines[i][h] === null ? "" : String(lines[i][h]),
          `${h} of epoch ${i + 1}`,
        )
      )
    );
    // the event file: the version record, then one summary per epoch with metrics.jsonl's values
    const files = [...Deno.readDirSync(`${run}/tensorboard`)].map((e) => e.name);
    assert.equal(files.length, 1);
    assert.match(files[0], /^events\.out\.tfevents\.\d+\./);
    const events = readRecords(Deno.readFileSync(`${run}/tensorboard/${files[0]}`)).map(
      decodeEvent,
    );
    assert.equal(events[0].fileVersion, "brain.Event:2");
    assert.deepEqual(events.slice(1).map((e) => e.step), [1, 2, 3]);
    events.slice(1).forEach((e, i) => {
      const m = lines[i];
      assert.equal(e.scalars["accuracy/test"], Math.fround(m.test_acc));
      assert.equal(e.scalars["loss/train"], Math.fround(m.train_loss));
      assert.equal(e.scalars["accuracy/val"], Math.fround(m.val_acc));
      assert.equal("schedule/k" in e.scalars, m.k !== null, "k only for masked epochs");
    });

    // `hlgm runs`: this run, a stopped one and one without a checkpoint
    const stopped = `${root}/runs/nested/b`;
    Deno.mkdirSync(`${root}/runs/nested`, { recursive: true });
    await new Deno.Command("cp", { args: ["-r", run, stopped] }).output();
    const cfg = JSON.parse(Deno.readTextFileSync(`${stopped}/config.json`));
    cfg.config.epochs = 5;
    Deno.writeTextFileSync(`${stopped}/config.json`, JSON.stringify(cfg));
    Deno.mkdirSync(`${root}/runs/c`);
    Deno.writeTextFileSync(`${root}/runs/c/config.json`, JSON.stringify(cfg));
    const table = await cli(["runs", `${root}/runs`]);
    assert.equal(table.code, 0, table.stderr);
    const out = table.stdout.trim().split("\n");
    assert.match(
      out[0],
      /^run\s+method\s+model\s+dataset\s+seed\s+epochs\s+max test %\s+final %\s+status$/,
    );
    const max = (100 * Math.max(...lines.map((l) => l.test_acc))).toFixed(2);
    assert.match(
      out[1],
      new RegExp(
        `^a\\s+hlgm\\s+shallow-cnn\\s+synthetic\\s+0\\s+3/3\\s+${max}\\s+\\S+\\s+complete$`,
      ),
    );
    assert.match(out[2], /^c\s+hlgm .* 0\/5 .*no checkpoint$/);
    assert.match(out[3], /^nested\/b\s+hlgm .* 3\/5 .*stopped$/);
    const json = JSON.parse((await cli(["runs", `${root}/runs`, "--json"])).stdout);
    assert.deepEqual(json.map((r: { name: string; status: string }) => [r.name, r.status]), [
      ["a", "complete"],
      ["c", "no checkpoint"],
      ["nested/b", "stopped"],
    ]);
    const none = await cli(["runs", `${root}/nothing`]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /nothing is not a folder/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

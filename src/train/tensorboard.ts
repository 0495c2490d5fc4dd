/**
 * TensorBoard event files, written by hlgm itself (no TensorFlow): a TFRecord file of Event
 * protocol buffers, each record framed as length (uint64 LE), masked CRC-32C of the length,
 * the bytes, masked CRC-32C of the bytes. The first event carries the file version; each
 * further one a Summary of scalar values (tag, simple_value) at a step. `tensorboard --logdir`
 * on a folder of run folders shows every run's curves.
 *
 * @module
 */

import { concatBytes, crc32c } from "../util/bytes.ts";

/** TFRecord's masked CRC: rotated right by 15 bits plus a constant, so CRCs of CRCs differ. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, its masked CRC, the data, its masked CRC. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const head = new Uint8Array(12);
  const view = new DataView(head.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(head.subarray(0, 8)), true);
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, maskedCrc32c(data), true);
  return concatBytes([head, data, tail]);
}

// ---- the few protocol-buffer encodings an Event needs

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return out;
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
const utf8 = new TextEncoder();

function lengthDelimited(field: number, bytes: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.from([...key(field, 2), ...varint(bytes.length)]), bytes]);
}

function fixed64(field: number, value: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, value, true);
  return concatBytes([Uint8Array.from(key(field, 1)), b]);
}

function fixed32(field: number, value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return concatBytes([Uint8Array.from(key(field, 5)), b]);
}

/**
 * An Event (tensorflow/core/util/event.proto): wall_time = 1 (double), step = 2 (int64),
 * file_version = 3 (string) or summary = 5 (Summary: repeated Value value = 1; Value: tag = 1,
 * simple_value = 2 (float)).
 */
export function eventBytes(
  wallTime: number,
  step: number,
  body: { fileVersion: string } | { scalars: Readonly<Record<string, number>> },
): Uint8Array {
  const parts = [fixed64(1, wallTime), Uint8Array.from([...key(2, 0), ...varint(step)])];
  if ("fileVersion" in body) {
    parts.push(lengthDelimited(3, utf8.encode(body.fileVersion)));
  } else {
    const values = Object.entries(body.scalars).map(([tag, v]) =>
      lengthDelimited(1, concatBytes([lengthDelimited(1, utf8.encode(tag)), fixed32(2, v)]))
    );
    parts.push(lengthDelimited(5, concatBytes(values)));
  }
  return concatBytes(parts);
}

/** Appends scalar summaries to one event file in a folder (created on the first write). */
export class EventWriter {
  /** The event file. */
  readonly path: string;

  /** A new file `events.out.tfevents.<seconds>.<host>` in `dir`, with its version record. */
  constructor(dir: string) {
    Deno.mkdirSync(dir, { recursive: true });
    const now = Date.now() / 1000;
    let host = "localhost";
    try {
      host = Deno.hostname();
    } catch {
      // no hostname permission: the name only has to be unique with the time
    }
    this.path = `${dir}/events.out.tfevents.${Math.floor(now)}.${host}.${Deno.pid}`;
    this.#append(eventBytes(now, 0, { fileVersion: "brain.Event:2" }));
  }

  /** Writes `scalars` (tag -> value; non-finite and null values are left out) at `step`. */
  scalars(step: number, scalars: Readonly<Record<string, number | null>>): void {
    const finite = Object.fromEntries(
      Object.entries(scalars).filter((e): e is [string, number] =>
        e[1] !== null && Number.isFinite(e[1])
      ),
    );
    if (Object.keys(finite).length) {
      this.#append(eventBytes(Date.now() / 1000, step, { scalars: finite }));
    }
  }

  #append(event: Uint8Array): void {
    Deno.writeFileSync(this.path, tfRecord(event), { append: true, create: true });
  }
}

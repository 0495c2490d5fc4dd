import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { encodeCifar } from "../src/data/cifar.ts";
import { downloadDataset, downloadFile, md5File } from "../src/data/download.ts";
import { encodeIdx } from "../src/data/idx.ts";
import { loadDataset } from "../src/data/registry.ts";
import { createTar, extractTar, extractTarFile, safeTarPath } from "../src/data/tar.ts";

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

function bytes(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 7 + (i >> 9)) & 0xff);
}

interface Served {
  /** URL of a served path. */
  url(path: string): string;
  /** Every request: path, Range header, status answered. */
  requests: { path: string; range: string | null; status: number }[];
  close(): Promise<void>;
}

interface ServeOptions {
  /** Honour Range requests with 206 (default true). */
  range?: boolean;
  /** The first `cuts` responses stop after this many body bytes (Content-Length says more). */
  cutAfter?: number;
  cuts?: number;
  /** The first response sends `cutAfter` bytes and then stalls until the client gives up. */
  stall?: boolean;
}

/** A local HTTP server for `files` (path -> bytes) with controllable misbehaviour. */
function serve(files: Record<string, Uint8Array>, opts: ServeOptions = {}): Served {
  const requests: Served["requests"] = [];
  let cutsLeft = opts.cuts ?? (opts.cutAfter !== undefined ? 1 : 0);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    const range = req.headers.get("range");
    const data = files[path];
    const answer = (status: number, body: BodyInit | null, headers: HeadersInit = {}) => {
      requests.push({ path, range, status });
      return new Response(body, { status, headers });
    };
    if (!data) return answer(404, "not found");
    let start = 0;
    let status = 200;
    const headers: Record<string, string> = {
      "accept-ranges": opts.range === false ? "none" : "bytes",
    };
    const m = range?.match(/^bytes=(\d+)-$/);
    if (m && opts.range !== false) {
      start = Number(m[1]);
      if (start >= data.length) {
        return answer(416, null, { "content-range": `bytes */${data.length}` });
      }
      status = 206;
      headers["content-range"] = `bytes ${start}-${data.length - 1}/${data.length}`;
    }
    const body = data.subarray(start);
    headers["content-length"] = String(body.length);
    if (cutsLeft > 0 && opts.cutAfter !== undefined) {
      cutsLeft--;
      const part = body.subarray(0, opts.cutAfter);
      const stall = opts.stall;
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(part);
          if (!stall) c.close(); // short of Content-Length: the client sees a cut connection
          else req.signal.addEventListener("abort", () => c.close());
        },
      });
      return answer(status, stream, headers);
    }
    return answer(status, body.slice(), headers);
  });
  return {
    url: (p) => `http://127.0.0.1:${server.addr.port}${p}`,
    requests,
    close: () => server.shutdown(),
  };
}

/** A port nothing listens on. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("download: a full download is verified and renamed into place; a second call is cached", async () => {
  const data = bytes(300_000);
  const srv = serve({ "/f.bin": data });
  try {
    await withDir(async (dir) => {
      const seen: number[] = [];
      const r = await downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, {
        md5: md5(data),
        onProgress: (p) => p.phase === "download" && seen.push(p.done),
      });
      assert.deepEqual(await Deno.readFile(`${dir}/f.bin`), data);
      assert.equal(r.fetched, data.length);
      assert.equal(r.resumes, 0);
      assert.equal(seen.at(-1), data.length);
      await assert.rejects(Deno.stat(`${dir}/f.bin.part`), Deno.errors.NotFound);
      assert.equal(await md5File(`${dir}/f.bin`), md5(data));
      const again = await downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, { md5: md5(data) });
      assert.equal(again.cached, true);
      assert.equal(srv.requests.length, 1);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("download: a connection cut mid-file is resumed with a Range request (206)", async () => {
  const data = bytes(400_000, 2);
  const srv = serve({ "/f.bin": data }, { cutAfter: 150_000 });
  try {
    await withDir(async (dir) => {
      const r = await downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, {
        md5: md5(data),
        retryDelayMs: 1,
      });
      assert.deepEqual(await Deno.readFile(`${dir}/f.bin`), data);
      assert.deepEqual(srv.requests.map((q) => [q.range, q.status]), [
        [null, 200],
        ["bytes=150000-", 206],
      ]);
      assert.equal(r.resumes, 1);
      assert.equal(r.fetched, data.length);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("download: without retries a cut leaves the .part; the next call resumes it", async () => {
  const data = bytes(200_000, 3);
  const srv = serve({ "/f.bin": data }, { cutAfter: 80_000 });
  try {
    await withDir(async (dir) => {
      await assert.rejects(
        downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, { md5: md5(data), retries: 0 }),
        /download of http:\/\/127\.0\.0\.1:\d+\/f\.bin failed after 1 attempt\(s\): .*run again to resume/,
      );
      assert.equal((await Deno.stat(`${dir}/f.bin.part`)).size, 80_000);
      const r = await downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, { md5: md5(data) });
      assert.equal(r.resumes, 1);
      assert.equal(r.fetched, 120_000);
      assert.deepEqual(await Deno.readFile(`${dir}/f.bin`), data);
      assert.equal(srv.requests[1].range, "bytes=80000-");
    });
  } finally {
    await srv.close();
  }
});

Deno.test("download: a stalled connection times out and resumes", async () => {
  const data = bytes(100_000, 4);
  const srv = serve({ "/f.bin": data }, { cutAfter: 30_000, stall: true });
  try {
    await withDir(async (dir) => {
      const r = await downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, {
        md5: md5(data),
        // long enough that a busy machine rarely looks stalled on the resumed request; if it
        // does, that request is resumed in turn
        idleTimeoutMs: 3000,
        retryDelayMs: 1,
      });
      assert.ok(r.resumes >= 1, `${r.resumes} resumes`);
      assert.deepEqual(await Deno.readFile(`${dir}/f.bin`), data);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("download: a server without Range support restarts from the beginning", async () => {
  const data = bytes(120_000, 5);
  const srv = serve({ "/f.bin": data }, { range: false, cutAfter: 50_000 });
  try {
    await withDir(async (dir) => {
      const r = await downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, {
        md5: md5(data),
        retryDelayMs: 1,
      });
      assert.deepEqual(await Deno.readFile(`${dir}/f.bin`), data);
      assert.deepEqual(srv.requests.map((q) => [q.range, q.status]), [
        [null, 200],
        ["bytes=50000-", 200],
      ]);
      assert.equal(r.restarts, 1);
      assert.equal(r.resumes, 0);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("download: a complete .part (416 on resume) is verified, a stale one replaced", async () => {
  const data = bytes(50_000, 6);
  const srv = serve({ "/f.bin": data });
  try {
    await withDir(async (dir) => {
      await Deno.writeFile(`${dir}/f.bin.part`, data);
      const r = await downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, { md5: md5(data) });
      assert.equal(r.fetched, 0);
      assert.equal(srv.requests[0].status, 416);
      assert.deepEqual(await Deno.readFile(`${dir}/f.bin`), data);
      // a part longer than the file: the server says 416 with another size; start over
      await Deno.remove(`${dir}/f.bin`);
      await Deno.writeFile(`${dir}/f.bin.part`, bytes(60_000));
      const r2 = await downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, { md5: md5(data) });
      assert.equal(r2.restarts, 1);
      assert.deepEqual(await Deno.readFile(`${dir}/f.bin`), data);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("download: a checksum mismatch is refused and the download deleted", async () => {
  const data = bytes(10_000, 7);
  const srv = serve({ "/f.bin": data });
  try {
    await withDir(async (dir) => {
      const wrong = "0123456789abcdef0123456789abcdef";
      await assert.rejects(
        downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, { md5: wrong }),
        new RegExp(
          `checksum mismatch for http://127\\.0\\.0\\.1:\\d+/f\\.bin: MD5 ${md5(data)}, ` +
            `expected ${wrong}; the download was deleted`,
        ),
      );
      await assert.rejects(Deno.stat(`${dir}/f.bin.part`), Deno.errors.NotFound);
      await assert.rejects(Deno.stat(`${dir}/f.bin`), Deno.errors.NotFound);
      // a finished file with the wrong content is fetched again
      await Deno.writeFile(`${dir}/f.bin`, bytes(10));
      const r = await downloadFile(srv.url("/f.bin"), `${dir}/f.bin`, { md5: md5(data) });
      assert.equal(r.fetched, data.length);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("download: HTTP errors and an unreachable server are one-line errors naming the URL", async () => {
  const srv = serve({});
  try {
    await withDir(async (dir) => {
      await assert.rejects(
        downloadFile(srv.url("/nope.bin"), `${dir}/nope.bin`, { manualDir: `${dir}/x` }),
        /^Error: cannot download http:\/\/127\.0\.0\.1:\d+\/nope\.bin: HTTP 404 Not Found;/,
      );
    });
  } finally {
    await srv.close();
  }
  await withDir(async (dir) => {
    const url = `http://127.0.0.1:${closedPort()}/data.tar.gz`;
    const err = await downloadFile(url, `${dir}/data.tar.gz`, { manualDir: `${dir}/cifar10` })
      .then(() => null, (e: Error) => e);
    assert.ok(err);
    assert.equal(err.message.split("\n").length, 1);
    assert.ok(err.message.startsWith(`cannot download ${url}: `), err.message);
    assert.ok(
      err.message.endsWith(`place it (archives extracted) in ${dir}/cifar10/`),
      err.message,
    );
    // retried attempts would end "failed after N attempt(s)" instead
  });
});

Deno.test("tar: writes and reads ustar, prefix and GNU long names; gzip detected", async () => {
  const big = bytes(70_000, 8);
  const longDir = "d".repeat(120);
  const entries = [
    { name: "top/" },
    { name: "top/a.bin", data: big },
    { name: "top/empty.txt", data: new Uint8Array(0) },
    { name: `top/${longDir}/b.txt`, data: new TextEncoder().encode("prefix") },
    { name: `top/${"n".repeat(200)}`, data: new TextEncoder().encode("gnu long name") },
    { name: "top/._a.bin", data: new Uint8Array(3) },
  ];
  const tar = createTar(entries);
  for (const archive of [tar, new Uint8Array(gzipSync(tar))]) {
    await withDir(async (dir) => {
      const seen: string[] = [];
      const r = await extractTar(ReadableStream.from([archive]), dir, {
        onEntry: (p) => seen.push(p),
      });
      assert.equal(r.files, 4);
      assert.equal(r.dirs, 1);
      assert.deepEqual(r.skipped, ["top/._a.bin (macOS metadata)"]);
      assert.deepEqual(await Deno.readFile(`${dir}/top/a.bin`), big);
      assert.equal((await Deno.stat(`${dir}/top/empty.txt`)).size, 0);
      assert.equal(await Deno.readTextFile(`${dir}/top/${longDir}/b.txt`), "prefix");
      assert.equal(await Deno.readTextFile(`${dir}/top/${"n".repeat(200)}`), "gnu long name");
      assert.equal(seen.length, 4);
    });
  }
});

Deno.test("tar: agrees with the system tar both ways (when tar is installed)", async () => {
  let hasTar = true;
  try {
    await new Deno.Command("tar", { args: ["--version"], stdout: "null" }).output();
  } catch {
    hasTar = false;
  }
  if (!hasTar) return;
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/src/x/y`, { recursive: true });
    await Deno.writeFile(`${dir}/src/x/y/data.bin`, bytes(123_457, 9));
    await Deno.writeTextFile(`${dir}/src/x/${"q".repeat(150)}.txt`, "long");
    const made = await new Deno.Command("tar", {
      args: ["-czf", `${dir}/sys.tgz`, "-C", `${dir}/src`, "x"],
    }).output();
    assert.equal(made.code, 0);
    const r = await extractTarFile(`${dir}/sys.tgz`, `${dir}/ours`);
    assert.equal(r.files, 2);
    assert.deepEqual(
      await Deno.readFile(`${dir}/ours/x/y/data.bin`),
      await Deno.readFile(`${dir}/src/x/y/data.bin`),
    );
    assert.equal(await Deno.readTextFile(`${dir}/ours/x/${"q".repeat(150)}.txt`), "long");
    // and the system tar reads what we write
    await Deno.writeFile(
      `${dir}/ours.tar`,
      createTar([{ name: "z/" }, { name: `z/${"w".repeat(130)}/f.bin`, data: bytes(999) }]),
    );
    await Deno.mkdir(`${dir}/sys`);
    const out = await new Deno.Command("tar", {
      args: ["-xf", `${dir}/ours.tar`, "-C", `${dir}/sys`],
    })
      .output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(await Deno.readFile(`${dir}/sys/z/${"w".repeat(130)}/f.bin`), bytes(999));
  });
});

Deno.test("tar: unsafe paths, bad checksums and truncation are errors", async () => {
  assert.equal(safeTarPath("./a/./b"), "a/b");
  assert.throws(() => safeTarPath("/etc/passwd"), /unsafe entry path "\/etc\/passwd"/);
  assert.throws(() => safeTarPath("a/../../b"), /unsafe entry path/);
  await withDir(async (dir) => {
    const evil = createTar([{ name: "../evil.txt", data: bytes(5) }]);
    await assert.rejects(
      extractTar(ReadableStream.from([evil]), `${dir}/out`),
      /unsafe entry path "\.\.\/evil\.txt"/,
    );
    await assert.rejects(Deno.stat(`${dir}/evil.txt`), Deno.errors.NotFound);
    const good = createTar([{ name: "f.bin", data: bytes(2000) }]);
    const corrupt = good.slice();
    corrupt[10] ^= 0xff;
    await assert.rejects(
      extractTar(ReadableStream.from([corrupt]), `${dir}/out2`, { source: "x.tar" }),
      /x\.tar \(entry at byte 0\): bad tar header checksum/,
    );
    await assert.rejects(
      extractTar(ReadableStream.from([good.subarray(0, 512 + 1000)]), `${dir}/out3`, {
        source: "y.tar",
      }),
      /y\.tar \(entry at byte 0\): truncated data of "f\.bin" \(1000 of 2000 bytes\)/,
    );
    const gz = new Uint8Array(gzipSync(good));
    await assert.rejects(
      extractTar(ReadableStream.from([gz.subarray(0, gz.length - 30)]), `${dir}/out4`, {
        source: "z.tgz",
      }),
      /z\.tgz/,
    );
  });
});

/** A CIFAR-10 binary archive as the authors publish it (small batches). */
function cifarArchive(): Uint8Array {
  const entries: { name: string; data?: Uint8Array }[] = [{ name: "cifar-10-batches-bin/" }];
  const n = 2;
  for (
    const f of [
      "data_batch_1",
      "data_batch_2",
      "data_batch_3",
      "data_batch_4",
      "data_batch_5",
      "test_batch",
    ]
  ) {
    entries.push({
      name: `cifar-10-batches-bin/${f}.bin`,
      data: encodeCifar(bytes(n * 3072, f.length), [1, 8]),
    });
  }
  entries.push({
    name: "cifar-10-batches-bin/batches.meta.txt",
    data: new TextEncoder().encode(
      "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n",
    ),
  });
  entries.push({
    name: "cifar-10-batches-bin/readme.html",
    data: new TextEncoder().encode("<html>"),
  });
  return new Uint8Array(gzipSync(createTar(entries)));
}

Deno.test("downloadDataset: a .tar.gz is fetched, checked, extracted atomically into <root>/<name>", async () => {
  const archive = cifarArchive();
  const srv = serve({ "/kriz/cifar-10-binary.tar.gz": archive }, {
    cutAfter: archive.length >> 1,
  });
  try {
    await withDir(async (root) => {
      const sources = [{
        url: srv.url("/kriz/cifar-10-binary.tar.gz"),
        md5: md5(archive),
        extract: true,
      }];
      const phases = new Set<string>();
      const r = await downloadDataset("cifar10", root, {
        sources,
        retryDelayMs: 1,
        onProgress: (p) => phases.add(p.phase),
      });
      assert.equal(r.alreadyPresent, false);
      assert.equal(r.dir, `${root}/cifar10/cifar-10-batches-bin`);
      assert.deepEqual(r.files.map((f) => [f.file, f.fetched, f.resumes]), [
        ["cifar-10-binary.tar.gz", archive.length, 1],
      ]);
      assert.deepEqual([...phases].sort(), ["download", "extract", "verify"]);
      // only the dataset is left: no archive, staging or temporary folders
      const names = [];
      for await (const e of Deno.readDir(`${root}/cifar10`)) names.push(e.name);
      assert.deepEqual(names, ["cifar-10-batches-bin"]);
      const test = await loadDataset("cifar10", { dataDir: root, split: "test" });
      assert.equal(test.n, 2);
      assert.deepEqual(Array.from(test.labels), [1, 8]);
      const again = await downloadDataset("cifar10", root, { sources });
      assert.equal(again.alreadyPresent, true);
      assert.equal(srv.requests.length, 2);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("downloadDataset: a mismatching archive leaves no dataset folder behind", async () => {
  const archive = cifarArchive();
  const srv = serve({ "/cifar-100-binary.tar.gz": archive });
  try {
    await withDir(async (root) => {
      await assert.rejects(
        downloadDataset("cifar100", root, { mirror: srv.url("/") }),
        /checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/cifar-100-binary\.tar\.gz: MD5 [0-9a-f]{32}, expected 03b5dce01913d631647c71ecec9e9cb8/,
      );
      await assert.rejects(Deno.stat(`${root}/cifar100`), Deno.errors.NotFound);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("downloadDataset: plain files (MNIST .gz) through a mirror; aliases fetch their source", async () => {
  const files: Record<string, Uint8Array> = {};
  const sources: { url: string; md5: string }[] = [];
  for (const [prefix, n] of [["train", 6], ["t10k", 4]] as const) {
    const images = new Uint8Array(gzipSync(encodeIdx([n, 28, 28], bytes(n * 784))));
    const labels = new Uint8Array(
      gzipSync(encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i))),
    );
    for (const [kind, data] of [["images-idx3", images], ["labels-idx1", labels]] as const) {
      const file = `${prefix}-${kind}-ubyte.gz`;
      files[`/mirror/${file}`] = data;
      sources.push({ url: `https://unreachable.invalid/mnist/${file}`, md5: md5(data) });
    }
  }
  const srv = serve(files);
  try {
    await withDir(async (root) => {
      const r = await downloadDataset("mnist", root, { sources, mirror: srv.url("/mirror") });
      assert.equal(r.dir, `${root}/mnist`);
      assert.equal(r.files.length, 4);
      assert.ok(r.files.every((f) => f.url.startsWith(srv.url("/mirror/"))));
      const train = await loadDataset("mnist", { dataDir: root, split: "train" });
      assert.equal(train.n, 6);
      assert.deepEqual(Array.from(train.labels), [0, 1, 2, 3, 4, 5]);
      // cluttered-fmnist needs fashion-mnist: that is what gets fetched (here from the mirror)
      await assert.rejects(
        downloadDataset("cluttered-fmnist", root, { mirror: srv.url("/mirror") }),
        /checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/mirror\/train-images-idx3-ubyte\.gz/,
      );
    });
  } finally {
    await srv.close();
  }
});

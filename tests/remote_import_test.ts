import assert from "node:assert/strict";
import { SHIM_SOURCES } from "../native/build.ts";

const repo = new URL("../", import.meta.url);

// Serves the repository over HTTP on 127.0.0.1, then imports mod.ts from that URL in a fresh
// process with an empty cache: the shim's sources come over HTTP with the module graph and are
// built; with the server gone, the same import runs from the caches.
Deno.test("mod.ts imported from a URL brings the shim sources with it, builds once, then runs offline", async () => {
  const fetched: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    fetched.push(path);
    try {
      const body = await Deno.readFile(new URL(`.${path}`, repo));
      const type = path.endsWith(".ts") ? "application/typescript" : "text/plain";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const cache = await Deno.makeTempDir();
  let stopped = false;
  try {
    const url = `http://127.0.0.1:${server.addr.port}/mod.ts`;
    const script = `import { tensor, info } from "${url}";` +
      `const t = tensor([1, 2, 3]).mul(2).sum();` +
      `console.log(JSON.stringify({ sum: t.item(), shim: info().shimPath }));`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--reload", "--no-lock", script],
      cwd: cache, // outside the repository: no deno.json, no lock file to touch
      env: { HLGM_CACHE_DIR: cache, DENO_NO_UPDATE_CHECK: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim());
    assert.equal(result.sum, 12);
    assert.ok(result.shim.startsWith(cache), `shim ${result.shim} should be built under ${cache}`);
    for (const name of SHIM_SOURCES) {
      assert.ok(fetched.includes(`/native/${name}`), `native/${name} was not fetched over HTTP`);
    }
    assert.match(stderr, /building the libtorch shim/);

    // the host goes away: the cached project still runs, from Deno's module cache and the
    // built shim, without fetching or building anything
    await server.shutdown();
    stopped = true;
    const offline = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-lock", script],
      cwd: cache,
      env: { HLGM_CACHE_DIR: cache, DENO_NO_UPDATE_CHECK: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const offlineErr = new TextDecoder().decode(offline.stderr);
    assert.ok(offline.success, offlineErr);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(offline.stdout).trim()), result);
    assert.doesNotMatch(offlineErr, /building|Download/);
  } finally {
    if (!stopped) await server.shutdown();
    await Deno.remove(cache, { recursive: true });
  }
});

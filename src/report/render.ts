/**
 * SVG to PNG with resvg compiled to WebAssembly (`@resvg/resvg-wasm`): no native code, no
 * system libraries, the same pixels on every machine. Text is set in DejaVu Sans from the
 * `dejavu-fonts-ttf` npm package (system fonts are never consulted, so output does not depend
 * on what a machine has installed); when that file cannot be found, DejaVu Sans from
 * /usr/share/fonts is used, and failing that text is left out with one warning.
 *
 * @module
 */

import { initWasm, Resvg } from "npm:@resvg/resvg-wasm@2.6.2";
import { fileURLToPath } from "node:url";

let ready: Promise<Uint8Array | null> | undefined;
let warned = false;

const SYSTEM_FONTS = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/TTF/DejaVuSans.ttf",
  "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

function readIfFile(path: string): Uint8Array | null {
  try {
    return Deno.readFileSync(path);
  } catch {
    return null;
  }
}

async function loadFont(): Promise<Uint8Array | null> {
  try {
    // importing the package's package.json makes Deno fetch the package (fonts only, no code)
    await import("npm:dejavu-fonts-ttf@2.37.3/package.json", { with: { type: "json" } });
    const url = import.meta.resolve("npm:dejavu-fonts-ttf@2.37.3/ttf/DejaVuSans.ttf");
    if (url.startsWith("file:")) {
      const bytes = readIfFile(fileURLToPath(url));
      if (bytes) return bytes;
    }
  } catch {
    // fall through to the system's copy
  }
  for (const path of SYSTEM_FONTS) {
    const bytes = readIfFile(path);
    if (bytes) return bytes;
  }
  return null;
}

/** True when the resvg package was already initialised (by this module or another). */
function wasmInitialized(): boolean {
  try {
    new Resvg('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>').free();
    return true;
  } catch {
    return false;
  }
}

async function init(): Promise<Uint8Array | null> {
  const wasmUrl = new URL("./index_bg.wasm", import.meta.resolve("npm:@resvg/resvg-wasm@2.6.2"));
  if (!wasmInitialized()) {
    try {
      await initWasm(wasmUrl.protocol === "file:" ? Deno.readFileSync(wasmUrl) : fetch(wasmUrl));
    } catch (e) {
      // another module of this process initialised the same package first
      if (!/Already initialized/.test(String(e))) throw e;
    }
  }
  return await loadFont();
}

/** Options of {@link svgToPng}. */
export interface SvgToPngOptions {
  /** Output width in pixels (height follows the aspect ratio; default: the SVG's size). */
  width?: number;
  /** Background colour (CSS; default: transparent where the SVG draws nothing). */
  background?: string;
}

/** Renders an SVG document to PNG bytes at its own size (or `width`). */
export async function svgToPng(svg: string, options: SvgToPngOptions = {}): Promise<Uint8Array> {
  ready ??= init();
  const font = await ready;
  if (!font && !warned) {
    warned = true;
    console.warn(
      "warning: no DejaVu Sans font found (npm dejavu-fonts-ttf or /usr/share/fonts); PNG charts are drawn without text",
    );
  }
  const resvg = new Resvg(svg, {
    font: {
      fontBuffers: font ? [font] : [],
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
    },
    fitTo: options.width ? { mode: "width", value: options.width } : { mode: "original" },
    ...(options.background ? { background: options.background } : {}),
  });
  try {
    const image = resvg.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}

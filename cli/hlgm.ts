/**
 * The entry point of the installed `hlgm` command:
 * `deno install -g -f -A -n hlgm --config deno.json cli/hlgm.ts` (README). Messages that
 * suggest a command then suggest `hlgm ...` (src/util/command.ts).
 *
 * @module
 */

import { main } from "./main.ts";

Deno.exit(await main(Deno.args));

/**
 * Query MercadoLibre's public API through the SDK, selecting fields by their English names
 * (the script answers in Spanish; the manifest's aliases map `precio` to `price`).
 *
 *   cd examples && deno run -A mercadolibre_api.ts "mate cup"
 *
 * The script is committed in `.capibara/` (no API key needed). It needs the network
 * (api.mercadolibre.com, granted below) and bubblewrap + socat for the sandbox and its proxy.
 *
 * @module
 */
import { Capibara, CapibaraError } from "../main.ts";

const query = Deno.args[0] ?? "mate cup";
const cb = new Capibara({
  cwd: import.meta.dirname,
  root: import.meta.dirname,
  allow: { network: ["api.mercadolibre.com"] },
});
try {
  const res = await cb.run<{ title: string; price: number }>(
    "Search MercadoLibre for the query and return the first result's title and price",
    { context: { query, site: "MLA" }, select: ["title", "price"] },
  );
  console.log(`${res.output.title}: ${res.output.price}`);
} catch (error) {
  if (!(error instanceof CapibaraError)) throw error;
  console.error(`error[${error.type}]: ${error.message}\nhint: ${error.hint}`);
  Deno.exit(error.exitCode);
}

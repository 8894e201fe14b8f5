/**
 * A small npm registry on loopback for tests, speaking the protocol Deno uses: packuments and
 * tarballs built from in-memory packages with the system's `tar`, each request recorded.
 *
 * @module
 */
import { join } from "node:path";

/** One package version: its files (package.json included). */
export interface FakePackage {
  name: string;
  version: string;
  files: Record<string, string>;
}

/** A running registry. */
export interface FakeRegistry extends AsyncDisposable {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** Paths requested so far. */
  requests: string[];
}

async function tarball(dir: string, pkg: FakePackage): Promise<Uint8Array<ArrayBuffer>> {
  const root = join(dir, `${pkg.name.replace("/", "_")}-${pkg.version}`);
  const src = join(root, "package");
  for (const [name, text] of Object.entries(pkg.files)) {
    await Deno.mkdir(join(src, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(src, name), text);
  }
  const out = join(root, "pkg.tgz");
  const r = await new Deno.Command("tar", { args: ["-czf", out, "-C", root, "package"] }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  return await Deno.readFile(out);
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Serves `packages` as an npm registry on 127.0.0.1. */
export async function startRegistry(packages: FakePackage[]): Promise<FakeRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "capibara_npm_registry_" });
  const tarballs = new Map<string, Uint8Array<ArrayBuffer>>();
  try {
    for (const pkg of packages) tarballs.set(`${pkg.name}@${pkg.version}`, await tarball(dir, pkg));
  } finally {
    await Deno.remove(dir, { recursive: true }); // served from memory
  }
  const requests: string[] = [];
  let port = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    requests.push(path);
    const [name = "", file] = path.slice(1).split("/-/");
    if (file !== undefined) {
      const version = file.slice(name.split("/").pop()!.length + 1, -".tgz".length);
      const bytes = tarballs.get(`${name}@${version}`);
      return bytes ? new Response(bytes) : new Response("not found", { status: 404 });
    }
    const versions: Record<string, unknown> = {};
    let latest = "";
    for (const pkg of packages.filter((p) => p.name === name)) {
      const bytes = tarballs.get(`${pkg.name}@${pkg.version}`)!;
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", bytes));
      versions[pkg.version] = {
        ...JSON.parse(pkg.files["package.json"] ?? "{}"),
        dist: {
          tarball: `http://127.0.0.1:${port}/${name}/-/${name.split("/").pop()}-${pkg.version}.tgz`,
          integrity: `sha512-${base64(digest)}`,
        },
      };
      latest = pkg.version;
    }
    if (!latest) return Response.json({ error: "not found" }, { status: 404 });
    return Response.json({ name, "dist-tags": { latest }, versions });
  });
  port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A one-file ES module package exporting `value` as its default. */
export function esmPackage(name: string, version: string, value: string): FakePackage {
  return {
    name,
    version,
    files: {
      "package.json": JSON.stringify({ name, version, type: "module", main: "index.js" }),
      "index.js": `export default ${JSON.stringify(value)};\n`,
    },
  };
}

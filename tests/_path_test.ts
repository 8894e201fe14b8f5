import assert from "node:assert/strict";
import { posix } from "node:path";
import { pathToFileURL } from "node:url";
import {
  basename,
  delimiter,
  dirname,
  isAbsolute,
  join,
  pathToFileUrl,
  relative,
  resolve,
  sep,
} from "../src/_path.ts";

// Segments that exercise the edge cases: roots, empties, dots, repeated and trailing slashes.
const PARTS = [
  "",
  "/",
  "//",
  ".",
  "..",
  "a",
  "b/",
  "/c",
  "../d",
  "./e/..",
  "f//g",
  "...",
  ".h",
  "/",
];

function samples(): string[][] {
  const out: string[][] = [];
  for (const a of PARTS) {
    out.push([a]);
    for (const b of PARTS) {
      out.push([a, b]);
      for (const c of ["x", "..", "/y/", ""]) out.push([a, b, c]);
    }
  }
  return out;
}

Deno.test("join() resolve() dirname() basename() isAbsolute() agree with node:path's posix", () => {
  for (const parts of samples()) {
    assert.deepEqual(join(...parts), posix.join(...parts), `join ${JSON.stringify(parts)}`);
    assert.deepEqual(
      resolve(...parts),
      posix.resolve(...parts),
      `resolve ${JSON.stringify(parts)}`,
    );
    const one = parts.join("");
    assert.deepEqual(dirname(one), posix.dirname(one), `dirname ${one}`);
    assert.deepEqual(basename(one), posix.basename(one), `basename ${one}`);
    assert.deepEqual(isAbsolute(one), posix.isAbsolute(one), `isAbsolute ${one}`);
  }
  assert.deepEqual([sep, delimiter], [posix.sep, posix.delimiter]);
});

Deno.test("relative() agrees with node:path's posix", () => {
  const paths = samples().map((parts) => parts.join("/"));
  for (const from of paths.slice(0, 120)) {
    for (const to of paths.slice(0, 120)) {
      assert.deepEqual(relative(from, to), posix.relative(from, to), `${from} -> ${to}`);
    }
  }
});

Deno.test("pathToFileUrl() agrees with node:url's pathToFileURL", () => {
  for (const path of ["/a b/c", "/x/%41", "rel/ative", "/q?#x", "/tab\there", "/dir/", "/ü/ñ"]) {
    assert.deepEqual(pathToFileUrl(path).href, pathToFileURL(path).href, path);
  }
});

Deno.test("tmpDir() reads TMPDIR and drops its trailing slash", async () => {
  // In a process of its own: test files share this one's environment while they run.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { tmpDir } from ${JSON.stringify(new URL("../src/_path.ts", import.meta.url).href)};
console.log(tmpDir());`,
    ],
    env: { TMPDIR: "/some/where/" },
    stdout: "piped",
  }).output();
  assert.deepEqual(new TextDecoder().decode(out.stdout).trim(), "/some/where");
});

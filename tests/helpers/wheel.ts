/**
 * Pure-python wheels built offline for tests: no setuptools, no network, just `zipfile`.
 *
 * @module
 */
/** What {@linkcode buildWheel} packs. */
export interface WheelSpec {
  /** Distribution name, e.g. `capibara-fixture`. */
  name: string;
  /** Version, e.g. `1.0.0`. */
  version: string;
  /** Files at the wheel's root, by path (e.g. `{ "capi_fixture.py": "VALUE = 42\n" }`). */
  module: Record<string, string>;
}

// Builds <dist>-<version>-py3-none-any.whl with METADATA, WHEEL and a RECORD whose hashes pip
// verifies (sha256, urlsafe base64 without padding).
const BUILDER = `
import base64, hashlib, json, os, re, sys, zipfile
out, name, version, files = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
dist = re.sub(r"[-_.]+", "_", name)
info = f"{dist}-{version}.dist-info"
entries = dict(files)
entries[f"{info}/METADATA"] = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n"
entries[f"{info}/WHEEL"] = ("Wheel-Version: 1.0\\nGenerator: capibara-tests\\n"
                            "Root-Is-Purelib: true\\nTag: py3-none-any\\n")
record = []
path = os.path.join(out, f"{dist}-{version}-py3-none-any.whl")
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:
    for arc, text in entries.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arc},sha256={digest},{len(data)}")
        whl.writestr(arc, data)
    record.append(f"{info}/RECORD,,")
    whl.writestr(f"{info}/RECORD", "\\n".join(record) + "\\n")
print(path)
`;

/**
 * Write a valid pure-python wheel `<name>-<version>-py3-none-any.whl` into `dir` (created when
 * missing) and return its path. Needs only `python3`.
 */
export async function buildWheel(dir: string, spec: WheelSpec): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const { code, stdout, stderr } = await new Deno.Command("python3", {
    args: ["-c", BUILDER, dir, spec.name, spec.version, JSON.stringify(spec.module)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (code !== 0) {
    throw new Error(`Cannot build wheel "${spec.name}": ${decoder.decode(stderr).trim()}`);
  }
  return decoder.decode(stdout).trim();
}

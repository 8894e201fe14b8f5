/**
 * Pure-python wheels built offline for tests: no setuptools, no network, just `zipfile`.
 *
 * @module
 */
import { PYTHON } from "./python.ts";

/** What {@linkcode buildWheel} packs. */
export interface WheelSpec {
  /** Distribution name, e.g. `capibara-fixture`. */
  name: string;
  /** Version, e.g. `1.0.0`. */
  version: string;
  /**
   * Files at the wheel's root, by path (e.g. `{ "capi_fixture.py": "VALUE = 42\n" }`); those under
   * `<dist>-<version>.data/scripts/` are packed executable.
   */
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
        entry = zipfile.ZipInfo(arc, (2020, 1, 1, 0, 0, 0))
        entry.compress_type = zipfile.ZIP_DEFLATED
        # Scripts (\`<dist>.data/scripts/\`) are executable, as build backends pack them.
        entry.external_attr = (0o100755 if ".data/scripts/" in arc else 0o100644) << 16
        whl.writestr(entry, data)
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
  const { code, stdout, stderr } = await new Deno.Command(PYTHON, {
    // Isolated and without `site`: the builders use the standard library only, and a host's
    // site-packages may hold `.pth` files that import packages at every start (≈ 50 ms here).
    args: ["-I", "-S", "-c", BUILDER, dir, spec.name, spec.version, JSON.stringify(spec.module)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (code !== 0) {
    throw new Error(`Cannot build wheel "${spec.name}": ${decoder.decode(stderr).trim()}`);
  }
  return decoder.decode(stdout).trim();
}

/** What {@linkcode buildSdist} packs. */
export interface SdistSpec {
  /** Distribution name, e.g. `capibara-evil`. */
  name: string;
  /** Version, e.g. `1.0.0`. */
  version: string;
  /**
   * Python statements run by the build backend when pip builds the wheel (a PEP 517 in-tree
   * backend with no build requirements, so no index is needed for the build itself). They may
   * set `files[path] = text` to add files to the built wheel.
   */
  buildCode: string;
  /** Files of the wheel the backend builds, by path. */
  module: Record<string, string>;
}

// An in-tree PEP 517 backend: build_wheel runs the spec's code, then writes a wheel the same way
// BUILDER does.
const BACKEND = `
import base64, hashlib, json, os, re, zipfile
NAME, VERSION, FILES = json.loads(%SPEC%)

def _build(wheel_directory, files):
    dist = re.sub(r"[-_.]+", "_", NAME)
    info = f"{dist}-{VERSION}.dist-info"
    entries = dict(files)
    entries[f"{info}/METADATA"] = f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n"
    entries[f"{info}/WHEEL"] = ("Wheel-Version: 1.0\\nGenerator: capibara-tests\\n"
                                "Root-Is-Purelib: true\\nTag: py3-none-any\\n")
    record = []
    name = f"{dist}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as whl:
        for arc, text in entries.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arc},sha256={digest},{len(data)}")
            whl.writestr(arc, data)
        record.append(f"{info}/RECORD,,")
        whl.writestr(f"{info}/RECORD", "\\n".join(record) + "\\n")
    return name

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = dict(FILES)
%CODE%
    return _build(wheel_directory, files)
`;

// Packs <dist>-<version>.tar.gz: PKG-INFO, pyproject.toml naming the in-tree backend, the backend.
const SDIST_BUILDER = `
import io, json, os, re, sys, tarfile
out, name, version, backend = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
dist = re.sub(r"[-_.]+", "_", name)
top = f"{dist}-{version}"
files = {
    "PKG-INFO": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
    "pyproject.toml": ('[build-system]\\nrequires = []\\n'
                       'build-backend = "capibara_backend"\\nbackend-path = ["."]\\n'),
    "capibara_backend.py": backend,
}
path = os.path.join(out, f"{top}.tar.gz")
with tarfile.open(path, "w:gz") as tar:
    for arc, text in files.items():
        data = text.encode()
        info = tarfile.TarInfo(f"{top}/{arc}")
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
print(path)
`;

/**
 * Write a source distribution `<name>-<version>.tar.gz` into `dir` whose build backend runs
 * `spec.buildCode` (as the build would, with the builder's permissions) and return its path.
 */
export async function buildSdist(dir: string, spec: SdistSpec): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const code = spec.buildCode.split("\n").map((line) => "    " + line).join("\n");
  const backend = BACKEND
    .replace("%SPEC%", () => JSON.stringify(JSON.stringify([spec.name, spec.version, spec.module])))
    .replace("%CODE%", () => code);
  const { code: exit, stdout, stderr } = await new Deno.Command(PYTHON, {
    args: ["-I", "-S", "-c", SDIST_BUILDER, dir, spec.name, spec.version, backend],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (exit !== 0) {
    throw new Error(`Cannot build sdist "${spec.name}": ${decoder.decode(stderr).trim()}`);
  }
  return decoder.decode(stdout).trim();
}

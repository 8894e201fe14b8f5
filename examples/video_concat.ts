/**
 * Concatenate videos with moviepy, through the SDK.
 *
 *   cd examples && deno run -A video_concat.ts a.mp4 b.mp4
 *
 * The script is committed in `.capibara/` (no API key needed). It needs moviepy==1.0.3, installed
 * on first run from your package index (PIP_INDEX_URL / PIP_FIND_LINKS are honoured), ffmpeg, and
 * bubblewrap for the sandbox (`capibara doctor` tells whether it works here).
 *
 * @module
 */
import { Capibara, CapibaraError } from "../main.ts";

const inputs = Deno.args.length > 0 ? Deno.args : ["a.mp4", "b.mp4"];
const cb = new Capibara({ cwd: import.meta.dirname, root: import.meta.dirname });
try {
  const res = await cb.run<{ fps: number; duration: number }>(
    "Concatenate these videos with moviepy at 24fps",
    { context: { inputs, output: "final.mp4" } },
  );
  console.log(
    `wrote ${res.artifacts.join(", ")}: ${res.output.duration} s at ${res.output.fps} fps`,
  );
} catch (error) {
  if (!(error instanceof CapibaraError)) throw error;
  console.error(`error[${error.type}]: ${error.message}\nhint: ${error.hint}`);
  Deno.exit(error.exitCode);
}

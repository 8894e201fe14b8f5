# --- CAPIBARA ---
# prompt: Concatenate these videos with moviepy at 24fps
# deps: moviepy==1.0.3
# needs: network none; env none
# --- /CAPIBARA ---
# /// script
# requires-python = ">=3.9"
# dependencies = ["moviepy==1.0.3"]
# ///
"""Concatenate the context's input videos into one file at a fixed frame rate."""
import argparse
import json
import os
import sys


def load_context(value):
    if value.startswith("@"):
        with open(value[1:], encoding="utf-8") as handle:
            return json.load(handle)
    return json.loads(value)


def finish(status, artifacts=(), output=None, raw=None, error=None):
    line = {"status": status, "artifacts": list(artifacts), "output": output or {}, "raw": raw or {}}
    if error:
        line["error"] = error
    print(json.dumps(line))
    return 0 if status == "ok" else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--context", required=True, help="JSON or @file.json")
    parser.add_argument("--selftest", action="store_true", help="check imports and exit")
    parser.add_argument("--dry-run", action="store_true", help="validate the context only")
    args = parser.parse_args()
    if args.selftest:
        import moviepy.editor  # noqa: F401
        return finish("ok", output={"selftest": "passed"})
    context = load_context(args.context)
    inputs = context.get("inputs")
    target = context.get("output", "final.mp4")
    fps = int(context.get("fps", 24))
    if not isinstance(inputs, list) or not inputs:
        return finish("error", error="context.inputs must be a non-empty list of video paths")
    missing = [p for p in inputs if not os.path.isfile(p)]
    if missing:
        return finish("error", error=f"input videos not found: {', '.join(missing)}")
    if args.dry_run:
        return finish("ok", output={"would_read": inputs, "would_write": target, "fps": fps})
    from moviepy.editor import VideoFileClip, concatenate_videoclips

    clips = [VideoFileClip(p) for p in inputs]
    try:
        final = concatenate_videoclips(clips, method="compose")
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        final.write_videofile(target, fps=fps, logger=None)
        duration = float(final.duration)
    finally:
        for clip in clips:
            clip.close()
    return finish(
        "ok",
        [target],
        {"fps": fps, "duration": duration, "clips": len(inputs)},
        raw={"inputs": inputs},
    )


if __name__ == "__main__":
    sys.exit(main())

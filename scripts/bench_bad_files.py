#!/usr/bin/env python
"""The adversarial ingest: odd files in one folder, one `semsearch ingest` run, its peak memory.

    python scripts/bench_bad_files.py [--json]

Builds a folder of good notes beside files that once aborted or bloated a run (a 20000x1
PNG, a 200 MB text, a 64 KB one-word text, a non-UTF-8 name, a reserved record key, a CSV
with a 140 KB field, a JSONL with a NUL byte, a FIFO, a symlink loop, a link out of the
tree, a newline in a name, truncated and fake images), ingests it with the CLI (text model
plus CLIP's architecture with random weights), and prints the exit code, the skip lines,
the items added, the wall time and the peak RSS of the ingest process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def png(width: int, height: int) -> bytes:
    raw = b"".join(b"\x00" + b"\x00" * (width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def build(src: Path) -> int:
    """The folder; returns how many odd entries it holds."""
    src.mkdir(parents=True)
    for i in range(20):
        (src / f"note-{i:02d}.txt").write_text(f"An ordinary note number {i} about gardening.")
    (src / "strip.png").write_bytes(png(20000, 1))
    (src / "tall.png").write_bytes(png(1, 30000))
    with open(src / "huge.txt", "wb") as f:
        f.write(b"word " * (200 * 1024 * 1024 // 5))
    (src / "one-word.txt").write_text("x" * 65536)
    with open(os.fsencode(src) + b"/caf\xe9.txt", "w") as f:
        f.write("a latin-1 name")
    (src / "rec.jsonl").write_text(
        json.dumps({"id": "r1", "chroma:document": "reserved", "body": "a kayak"}) + "\n"
        + '{"id": "r2", "body": "raw \x00 byte"}\n')
    (src / "wide.csv").write_text("id,body\nc1,a tent\nc2," + "y" * 140_000 + "\n")
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(500))
    (src / "fake.png").write_text("not a picture")
    os.mkfifo(src / "pipe.txt")
    os.symlink("loop.txt", src / "loop.txt")
    os.symlink("/proc/self/status", src / "status.txt")
    (src / "new\nline.txt").write_text("a newline in the name")
    return 14


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="semsearch-bad-") as tmp:
        src = Path(tmp) / "odd"
        odd = build(src)
        env = dict(os.environ, HF_HUB_OFFLINE="1", SEMSEARCH_HOME=str(Path(tmp) / "home"))
        cmd = [str(Path(sys.executable).parent / "semsearch"), "ingest", str(src), "-c", "odd",
               "--clip-model", str(ROOT / "tests" / "data" / "tiny-clip.json"),
               "--clip-pretrained", "none", "--json"]
        started = time.perf_counter()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    skips = [line for line in out.stderr.splitlines() if line.startswith("skipping ")]
    others = [line for line in out.stderr.splitlines()
              if not line.startswith(("skipping ", "warning: "))]
    summary = json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else {}
    result = {"exit_code": out.returncode, "odd_entries": odd, "skip_lines": len(skips),
              "other_stderr_lines": len(others), "added": summary.get("added"),
              "seconds": round(wall, 1), "peak_rss_mb": round(peak_mb)}
    for line in skips:
        print(line, file=sys.stderr)
    print(f"exit {result['exit_code']}, {result['added']} files added, {len(skips)} skip lines "
          f"for {odd} odd entries, {len(others)} other lines, {wall:.1f} s, "
          f"peak RSS {peak_mb:.0f} MB")
    if args.json:
        print(json.dumps(result))
    return 0 if out.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the l generator on its first few shards, two settings alternated.

Scale l is simulated and written 100,000 people a shard; a world of `--shards` shards (l with its people
cut to `--shards` x 100,000) shows the shard cycle in a minute instead of two. Each side runs in its own
process, with its own environment (`--a` / `--b`: `NAME=value` pairs, e.g. `PYTHONPATH=<a clone>` for
another commit's generator, or a setting the generator reads), and prints wall seconds, rows/s,
user and system CPU seconds, minor page faults and peak RSS; the last line is b's best against a's best.

    .venv/bin/python bench/generator_shards.py --shards 4 --rounds 2 --a PYTHONPATH=/work/clone_at_d4fb97e
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import env_pairs

ONE_SIDE = """
import json, resource, sys, time
from pathlib import Path
from insight_engine.generator import run, world
world.SCALES["l"] = {**world.SCALES["l"], "persons": int(sys.argv[2]) * world.SHARD_PERSONS}
t = time.perf_counter()
result = run.generate(Path(sys.argv[1]), scale="l", seed=1, bad_rate=0.02)
seconds = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"code": str(Path(run.__file__).parents[2]), "seconds": seconds,
                  "rows": result.total_rows, "user": usage.ru_utime, "system": usage.ru_stime,
                  "minflt": usage.ru_minflt, "peak_gb": usage.ru_maxrss / 1e6}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shards", type=int, default=3, help="l shards of 100,000 people to generate")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--a", nargs="*", default=[], metavar="NAME=value", help="side a's environment")
    parser.add_argument("--b", nargs="*", default=[], metavar="NAME=value", help="side b's environment")
    args = parser.parse_args()
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="generator_shards_") as tmp:
        for round_ in range(1, args.rounds + 1):
            for side, pairs in (("a", args.a), ("b", args.b)):
                out = Path(tmp) / side
                done = subprocess.run(
                    [sys.executable, "-c", ONE_SIDE, str(out), str(args.shards)],
                    env={**os.environ, **env_pairs(pairs)},
                    cwd=tmp,  # not the repo: its folder would come first on sys.path, before PYTHONPATH
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    sys.exit(f"side {side} failed:\n{done.stderr[-4000:]}")
                r = json.loads(done.stdout.strip().splitlines()[-1])
                best[side] = min(best.get(side, float("inf")), r["seconds"])
                print(
                    f"round {round_} {side} ({r['code']}): {r['seconds']:.1f} s, "
                    f"{r['rows'] / r['seconds']:,.0f} rows/s, "
                    f"user {r['user']:.1f} s, system {r['system']:.1f} s, {r['minflt']:,} minor faults, "
                    f"peak {r['peak_gb']:.2f} GB",
                    flush=True,
                )
    print(f"b's best / a's best: {best['b'] / best['a']:.2f}")


if __name__ == "__main__":
    main()

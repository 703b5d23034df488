"""Start-up time of the commands a new user types first (whole-process medians).

    python benchmarks/startup.py [--repeats 5] [--importtime]

Each command runs ``--repeats`` times as a fresh process; the table gives min / median / max wall
seconds. ``--importtime`` also prints the modules that ``python -X importtime`` shows as slowest
when ``zhnlp plugins --check`` runs (what is left to make lazy).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "zhnlp --help": ["--help"],
    "zhnlp plugins": ["plugins"],
    "zhnlp predict --help": ["predict", "--help"],
    "zhnlp train trainer.max_epoch=1 (typo)": ["train", "trainer.max_epoch=1"],
    "zhnlp train task=classify head=crf (mismatch)": ["train", "task=classify", "head=crf"],
    "zhnlp train data.dev_path=missing.txt": ["train", "data.dev_path=missing.txt"],
    "zhnlp plugins --check": ["plugins", "--check"],
}


def timed(argv: list[str]) -> float:
    env = {**os.environ}
    env.pop("ZHNLP_SUBCOMMAND", None)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "zhnlp", *argv], capture_output=True, env=env, timeout=600)
    return time.perf_counter() - start


def slowest_imports(argv: list[str], n: int = 12) -> list[tuple[int, str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "zhnlp", *argv], capture_output=True, text=True,
                          timeout=600)
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
            if cumulative.isdigit() and name.count(".") == 0 and not name.startswith(" "):
                rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, {args.repeats} runs each")
    print(f"| command | min s | median s | max s |\n|---|---|---|---|")
    for name, argv in COMMANDS.items():
        times = [timed(argv) for _ in range(args.repeats)]
        print(f"| `{name}` | {min(times):.2f} | {statistics.median(times):.2f} | {max(times):.2f} |", flush=True)
    if args.importtime:
        print("\nslowest top-level imports of `zhnlp plugins --check` (cumulative ms):")
        for us, name in slowest_imports(["plugins", "--check"]):
            print(f"  {us / 1000:8.0f}  {name}")


if __name__ == "__main__":
    main()

"""The README's default job alone, then beside copies of itself: how much a busy machine slows it.

    python benchmarks/busy_machine.py [--jobs 3] [--repeats 1] [--timeout 900]
        [--env OMP_WAIT_POLICY=ACTIVE ...] [--beside busy|train] [-- extra train overrides]

Runs ``zhnlp train`` (the default job: char embeddings + BiLSTM-CRF on the bundled sample) once
alone, then ``--jobs`` copies at the same time (``--beside train``), or one copy beside
``--jobs - 1`` pure busy loops (``--beside busy``), each in its own temporary folder. Prints the
wall seconds of every run and the ratio of the concurrent runs to the lone one (three jobs on two
cores: 1.5x is the fair share). ``--env`` sets environment variables for the trainings (e.g. to
compare thread settings); a run that passes ``--timeout`` is killed and reported as such.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUSY = "while True: pass"


def start(args: list[str], cwd: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait(proc: subprocess.Popen, started: float, timeout: float) -> float | None:
    try:
        proc.wait(timeout=max(1.0, timeout - (time.time() - started)))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    if proc.returncode != 0:
        raise SystemExit(f"a training failed:\n{proc.stderr.read()[-2000:]}")
    return time.time() - started


def train_command(tmp: Path, name: str, overrides: list[str]) -> list[str]:
    return [sys.executable, "-m", "zhnlp", "train", "trainer.enable_progress_bar=false",
            f"hydra.run.dir={tmp / name}", *overrides]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3, help="concurrent processes in the busy phase")
    parser.add_argument("--beside", choices=["train", "busy"], default="train",
                        help="what runs beside the measured job: copies of it, or pure busy loops")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900, help="seconds before a run is killed")
    parser.add_argument("--env", nargs="*", default=[], help="KEY=VALUE for the trainings")
    parser.add_argument("overrides", nargs="*", help="extra train overrides (after --)")
    args = parser.parse_args()
    env = {**os.environ, **dict(kv.split("=", 1) for kv in args.env)}
    env.pop("ZHNLP_SUBCOMMAND", None)
    alone, together = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for r in range(args.repeats):
            started = time.time()
            alone.append(wait(start(train_command(root, f"alone{r}", args.overrides), root, env), started, args.timeout))
            started = time.time()
            procs = [start(train_command(root, f"busy{r}_0", args.overrides), root, env)]
            for j in range(1, args.jobs):
                procs.append(start(train_command(root, f"busy{r}_{j}", args.overrides), root, env)
                             if args.beside == "train" else start([sys.executable, "-c", BUSY], root, env))
            measured = [wait(procs[0], started, args.timeout)]
            if args.beside == "train":
                measured += [wait(p, started, args.timeout) for p in procs[1:]]
            else:
                for p in procs[1:]:
                    p.kill()
                    p.wait()
            together.append(measured)
    load = os.getloadavg()[0]
    shown = lambda t: "killed" if t is None else f"{t:.1f}"  # noqa: E731
    print(f"default job{' ' + ' '.join(args.overrides) if args.overrides else ''}; env {' '.join(args.env) or '(as is)'}; "
          f"{os.cpu_count()} cores; load average now {load:.2f}")
    print(f"  alone:    {', '.join(shown(t) for t in alone)} s")
    what = f"{args.jobs} trainings" if args.beside == "train" else f"1 training + {args.jobs - 1} busy loops"
    print(f"  {what} at once: " + "; ".join(", ".join(shown(t) for t in run) for run in together) + " s")
    first = [run[0] for run in together if run[0] is not None]
    if first and all(alone):
        print(f"  ratio (measured job, median): {statistics.median(first) / statistics.median(alone):.2f}x")


if __name__ == "__main__":
    main()

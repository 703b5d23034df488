"""Train experiment presets (NER or classification) through the real CLI; tabulate scores and wall time.

    python benchmarks/presets.py resume_ner_scratch cluener_scratch thucnews_scratch \
        [--data-root /work/shared/datasets] [--workdir /tmp/zhnlp-bench] [--nice 5] [--cpu 0] \
        [--append results.md] [--json runs.jsonl] [-- data.test_path=/path/test.txt ...]

Each preset runs as a user would run it, ``zhnlp train experiment=<preset> data_root=<root>``
(plus any overrides after ``--``), from ``--workdir`` so run folders land there. The run folder is
read from the command's own "Run folder:" line, then its ``metrics.json`` and ``logs/metrics.csv``
(the dev metric after every validation). Wall time is the whole command (start-up, jieba,
vocabularies, training, final evaluation); the 1-minute load average is sampled every few seconds
during the run (mean and max) so timings taken on a shared machine can be judged. ``--cpu N`` pins
the run to one core (``taskset -c N``). NER presets (``val/f1``) and classification presets
(``val/acc``) are printed as separate Markdown tables.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

DEFAULT_PRESETS = ["resume_ner_scratch", "cluener_scratch", "weibo_ner_scratch", "msra_ner_scratch",
                   "thucnews_scratch", "chnsenticorp_scratch"]
# task -> (dev metric key, table columns: (title, metrics.json key))
TASKS = {
    "ner": ("val/f1", [("dev P", "val/precision"), ("dev R", "val/recall"), ("dev F1", "val/f1"),
                       ("test F1", "test/f1")]),
    "cls": ("val/acc", [("dev acc", "val/acc"), ("dev macro-F1", "val/macro_f1"), ("test acc", "test/acc"),
                        ("test macro-F1", "test/macro_f1")]),
}
TAIL = ["epochs", "train s", "wall s", "load (mean/max)", "command"]


class LoadSampler(threading.Thread):
    """Samples ``os.getloadavg()[0]`` every ``period`` seconds until stopped."""

    def __init__(self, period: float = 5.0):
        super().__init__(daemon=True)
        self.period, self.samples = period, [os.getloadavg()[0]]
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.period):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> tuple[float, float]:
        self._halt.set()
        self.join()
        self.samples.append(os.getloadavg()[0])
        return sum(self.samples) / len(self.samples), max(self.samples)


def command_for(preset: str, data_root: str, overrides: list[str]) -> list[str]:
    """The exact CLI call a user would type."""
    return ["zhnlp", "train", f"experiment={preset}", f"data_root={data_root}", *overrides]


def val_curve(csv_path: Path) -> tuple[str | None, list[float]]:
    """(task, dev metric of every validation) from the run's CSV log; the last value repeats the
    best checkpoint's (the final evaluation)."""
    if not csv_path.is_file():
        return None, []
    with csv_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for task, (key, _) in TASKS.items():
        values = [float(r[key]) for r in rows if r.get(key)]
        if values:
            return task, values
    return None, []


def run_preset(preset: str, data_root: str, overrides: list[str], workdir: Path, nice: int,
               threads: int | None, cpu: int | None) -> dict:
    """Run one preset; returns a result row (metrics, timing, load, command, run folder)."""
    cmd = command_for(preset, data_root, overrides)
    launch = (["taskset", "-c", str(cpu)] if cpu is not None else []) + \
             (["nice", "-n", str(nice)] if nice else []) + cmd
    env = dict(os.environ)
    prefix = ""
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        prefix = f"OMP_NUM_THREADS={threads} "
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{preset}_{datetime.now():%Y%m%d_%H%M%S}.log"
    print(f"\n$ (cd {workdir} && {prefix}{shlex.join(launch)})   # log: {log_path}", flush=True)
    sampler = LoadSampler()
    sampler.start()
    started = time.time()
    run_dir = None
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(launch, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env, text=True, encoding="utf-8", errors="replace")
        for line in proc.stdout:
            log.write(line)
            match = re.match(r"\s*Run folder:\s*(.+?)\s*$", line)
            if match:
                run_dir = Path(match.group(1))
            if re.match(r"(Traceback|zhnlp: error)", line):
                print("  " + line.rstrip()[:200], flush=True)
        code = proc.wait()
    wall = time.time() - started
    load_mean, load_max = sampler.stop()
    row = {"preset": preset, "command": prefix + shlex.join(launch), "cwd": str(workdir), "returncode": code,
           "wall_s": round(wall, 1), "load_mean": round(load_mean, 2), "load_max": round(load_max, 2),
           "started": f"{datetime.fromtimestamp(started):%Y-%m-%d %H:%M}", "log": str(log_path),
           "run_dir": None, "metrics": {}, "curve": [], "task": None}
    if run_dir is not None:
        run_dir = run_dir if run_dir.is_absolute() else workdir / run_dir
        row["run_dir"] = str(run_dir)
        if (run_dir / "metrics.json").is_file():
            row["metrics"] = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        row["task"], row["curve"] = val_curve(run_dir / "logs" / "metrics.csv")
        if row["task"]:
            print(f"  {TASKS[row['task']][0]} per validation: " + ", ".join(f"{100 * a:.2f}" for a in row["curve"]),
                  flush=True)
    if code != 0:
        print(f"  FAILED with exit status {code}; see {log_path}", flush=True)
    return row


def _pct(metrics: dict, key: str) -> str:
    value = metrics.get(key)
    return "-" if value is None else f"{100 * value:.2f}"


def table(task: str, rows: list[dict]) -> list[str]:
    """Markdown header, rule and one line per run for the task's columns."""
    columns = TASKS[task][1]
    titles = [title for title, _ in columns] + TAIL
    lines = ["| preset | " + " | ".join(titles) + " |", "|---" * (len(titles) + 1) + "|"]
    for row in rows:
        m = row["metrics"]
        epochs, train_s = m.get("train/epochs"), m.get("train/seconds")  # epochs: the trainer's counter at the end
        cells = [_pct(m, key) for _, key in columns] + [
            "-" if epochs is None else str(int(epochs)), "-" if train_s is None else f"{train_s:.0f}",
            f"{row['wall_s']:.0f}", f"{row['load_mean']:.1f}/{row['load_max']:.1f}", f"`{row['command']}`"]
        lines.append(f"| {row['preset']} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, overrides = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("presets", nargs="*", default=DEFAULT_PRESETS, help="experiment names")
    parser.add_argument("--data-root", default=os.environ.get("ZHNLP_DATA_ROOT", "../shared/datasets"),
                        help="passed as data_root= (relative paths are relative to --workdir)")
    parser.add_argument("--workdir", default=".", help="directory the command runs in (runs/ lands there)")
    parser.add_argument("--nice", type=int, default=0, help="run under nice -n N (shared machines)")
    parser.add_argument("--cpu", type=int, default=None, help="pin the run to this core (taskset -c N)")
    parser.add_argument("--threads", type=int, default=1,
                        help="OMP_NUM_THREADS/MKL_NUM_THREADS for the run (0: leave unset). 1 is much "
                             "faster on a loaded machine: torch's spinning worker threads starve otherwise")
    parser.add_argument("--append", default=None, help="append the Markdown rows to this file")
    parser.add_argument("--json", default=None, help="append one JSON line per run to this file")
    args = parser.parse_args(argv)

    workdir = Path(args.workdir).resolve()
    rows = [run_preset(p, args.data_root, overrides, workdir, args.nice, args.threads, args.cpu)
            for p in args.presets]
    cpu = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    stamp = f"{datetime.now():%Y-%m-%d %H:%M}, {cpu}, cwd {workdir}"
    for task in TASKS:
        chosen = [r for r in rows if (r["task"] or "ner") == task]
        if not chosen:
            continue
        lines = table(task, chosen)
        print(f"\n{task} presets, {stamp}\n" + "\n".join(lines))
        if args.append:
            with open(args.append, "a", encoding="utf-8") as out:
                out.write(f"\n<!-- {stamp} -->\n" + "\n".join(lines[2:]) + "\n")
    if args.json:
        with open(args.json, "a", encoding="utf-8") as out:
            for r in rows:
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0 if all(r["returncode"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

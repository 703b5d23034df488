"""The default knowledge base: one embedded SQLite file.

Tables
    triples(subject, predicate, object)            rowid = order in the source files
    entities(id, name UNIQUE, name_key, n_triples)  one row per distinct subject
    aliases(alias_key, entity_id, source)           'paren': name without its parenthetical;
                                                    'kb': objects of alias predicates (别名, 中文名, ...)
    grams(gram, entity_id)                          character bigrams of name keys (fuzzy lookup)
    meta(key, value)                                format version, counts, sources

Every query is parameterised; LIKE patterns escape ``%``, ``_`` and the escape character.
The store is opened read-only for question answering, so no question text can change it.
"""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from tqdm import tqdm

from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp.textio import iter_lines
from zhnlp_kbqa.normalize import MAX_KEY_CHARS, alias_key, bigrams, char_overlap, key, lookup_key
from zhnlp_kbqa.nlpcc import parse_triple

FORMAT = "zhnlp-kbqa-sqlite/1"
ALIAS_PREDICATES = ("别名", "中文名", "中文名称", "外文名", "英文名", "英文名称", "简称", "又名", "原名", "本名",
                    "全称", "昵称")
_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE triples(subject TEXT NOT NULL, predicate TEXT NOT NULL, object TEXT NOT NULL);
CREATE TABLE alias_raw(subject TEXT NOT NULL, alias TEXT NOT NULL);
CREATE TABLE entities(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, name_key TEXT NOT NULL,
                      n_triples INTEGER NOT NULL);
CREATE TABLE aliases(alias_key TEXT NOT NULL, entity_id INTEGER NOT NULL, source TEXT NOT NULL,
                     UNIQUE(alias_key, entity_id));
CREATE TABLE grams(gram TEXT NOT NULL, entity_id INTEGER NOT NULL);
"""
_INDEXES = """
CREATE INDEX triples_subject ON triples(subject, predicate);
CREATE INDEX entities_key ON entities(name_key);
CREATE INDEX grams_gram ON grams(gram);
"""
SQL_CHUNK = 500  # parameters per IN (...) list (SQLite's limit is 999 on old builds)


def escape_like(text: str, escape: str = "\\") -> str:
    """``text`` as a literal inside a LIKE pattern (with ``ESCAPE '\\'``): ``%`` and ``_`` match themselves."""
    return text.replace(escape, escape * 2).replace("%", escape + "%").replace("_", escape + "_")


# ---- building -------------------------------------------------------------------------------
@dataclass
class BuildReport:
    """What ``build_sqlite_kb`` did; ``malformed_examples`` are ``path:line: text`` strings."""

    path: str
    triples: int = 0
    malformed: int = 0
    malformed_examples: list[str] = field(default_factory=list)
    entities: int = 0
    aliases: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"{self.path}: {self.triples:,} triples, {self.entities:,} entities, {self.aliases:,} aliases "
                 f"({self.seconds:.1f}s)"]
        if self.malformed:
            lines.append(f"{self.malformed:,} malformed line(s) skipped (expected 'subject ||| predicate ||| object'), "
                         f"first {len(self.malformed_examples)}:")
            lines += [f"  {m}" for m in self.malformed_examples]
        return "\n".join(lines)


def _run_script(con: sqlite3.Connection, script: str) -> None:
    """Run ';'-separated statements inside the open transaction (``executescript`` would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            con.execute(statement)


def _source_lines(paths: list[str], bar: tqdm) -> Iterator[tuple[str, int, str | None]]:
    """(path, line number, text or None when the line is not UTF-8), streamed."""
    for path in paths:
        for number, line, size in iter_lines(path, strict=False):
            bar.update(size)
            yield path, number, line


def _batched(rows: Iterable, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def build_sqlite_kb(sources: str | Path | list, out_path: str | Path,
                    alias_predicates: Iterable[str] = ALIAS_PREDICATES, batch_size: int = 10_000,
                    progress: bool = True, overwrite: bool = False, max_reported: int = 5) -> BuildReport:
    """Stream triple files into a new SQLite KB (constant memory, one transaction).

    Args:
        sources: one or more files of ``subject ||| predicate ||| object`` lines (UTF-8).
        out_path: the ``.sqlite`` file to write; written to a temporary name, then moved.
        alias_predicates: predicates whose objects are indexed as aliases of the subject.
        batch_size: rows per ``executemany``.
        progress: show a tqdm bar over the bytes read.
        overwrite: replace an existing ``out_path``.
        max_reported: how many malformed lines to keep for the report.

    Returns:
        BuildReport (counts, malformed lines with ``path:line``).
    """
    started = time.time()
    paths = [str(p) for p in (sources if isinstance(sources, (list, tuple)) else [sources])]
    for p in paths:
        if not Path(p).is_file():
            raise ConfigError(f"{p}: triple file not found.")
    out = Path(out_path)
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} exists; pass --force (overwrite=True) to replace it.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    report = BuildReport(str(out))
    alias_predicates = set(alias_predicates)
    con = sqlite3.connect(tmp, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA temp_store=FILE")
        con.execute("BEGIN")
        _run_script(con, _SCHEMA)
        total = sum(Path(p).stat().st_size for p in paths)
        with tqdm(total=total, unit="B", unit_scale=True, desc="build-kb", disable=not progress) as bar:
            _load_triples(con, _source_lines(paths, bar), report, alias_predicates, batch_size, max_reported)
        _build_entities(con, report, batch_size)
        _run_script(con, _INDEXES)
        con.execute("DROP TABLE alias_raw")
        meta = {"format": FORMAT, "triples": report.triples, "entities": report.entities,
                "aliases": report.aliases, "malformed": report.malformed, "sources": "\n".join(paths),
                "built": time.strftime("%Y-%m-%d %H:%M:%S")}
        con.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
        con.execute("COMMIT")
        con.execute("ANALYZE")
        con.execute("VACUUM")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, out)
    report.seconds = round(time.time() - started, 1)
    return report


def _load_triples(con, lines, report: BuildReport, alias_predicates: set, batch_size: int, max_reported: int) -> None:
    def rows():
        for path, number, text in lines:
            if text is None or not text.strip():
                if text is None:
                    _malformed(report, path, number, "<not UTF-8>", max_reported)
                continue
            triple = parse_triple(text)
            if triple is None:
                _malformed(report, path, number, text, max_reported)
                continue
            report.triples += 1
            yield triple

    for batch in _batched(rows(), batch_size):
        con.executemany("INSERT INTO triples(subject, predicate, object) VALUES (?, ?, ?)", batch)
        aliases = [(s, o) for s, p, o in batch if p.strip() in alias_predicates and len(o) <= 4 * MAX_KEY_CHARS]
        if aliases:
            con.executemany("INSERT INTO alias_raw(subject, alias) VALUES (?, ?)", aliases)


def _malformed(report: BuildReport, path: str, number: int, text: str, max_reported: int) -> None:
    report.malformed += 1
    if len(report.malformed_examples) < max_reported:
        report.malformed_examples.append(f"{path}:{number}: {text[:80]}")


def _build_entities(con, report: BuildReport, batch_size: int) -> None:
    """entities from the distinct subjects; then their keys, 'paren' aliases, bigrams; then KB aliases."""
    con.execute("INSERT INTO entities(name, name_key, n_triples) "
                "SELECT subject, '', COUNT(*) FROM triples GROUP BY subject")
    last = 0
    while True:
        rows = con.execute("SELECT id, name FROM entities WHERE id > ? ORDER BY id LIMIT ?",
                           (last, batch_size)).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        updates, aliases, grams = [], [], []
        for eid, name in rows:
            name_key = lookup_key(name)
            updates.append((name_key, eid))
            alias = alias_key(name)
            if alias:
                aliases.append((alias, eid, "paren"))
            grams += [(g, eid) for g in bigrams(name_key)]
        con.executemany("UPDATE entities SET name_key = ? WHERE id = ?", updates)
        con.executemany("INSERT OR IGNORE INTO aliases(alias_key, entity_id, source) VALUES (?, ?, ?)", aliases)
        con.executemany("INSERT INTO grams(gram, entity_id) VALUES (?, ?)", grams)
    last = 0
    while True:
        rows = con.execute("SELECT a.rowid, e.id, e.name_key, a.alias FROM alias_raw a "
                           "JOIN entities e ON e.name = a.subject WHERE a.rowid > ? ORDER BY a.rowid LIMIT ?",
                           (last, batch_size)).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        aliases = [(k, eid, "kb") for _, eid, name_key, alias in rows
                   if (k := key(alias)[:4 * MAX_KEY_CHARS]) and k != name_key]
        con.executemany("INSERT OR IGNORE INTO aliases(alias_key, entity_id, source) VALUES (?, ?, ?)", aliases)
    report.entities = con.execute("SELECT COUNT(*) FROM entities").fetchone()[0]
    report.aliases = con.execute("SELECT COUNT(*) FROM aliases").fetchone()[0]


# ---- querying -------------------------------------------------------------------------------
class SQLiteKB:
    """Read-only KnowledgeBase over a file written by :func:`build_sqlite_kb`.

    Args:
        path: the ``.sqlite`` file.
        fuzzy_pool: how many gram-overlap candidates to re-score per fuzzy lookup.
    """

    def __init__(self, path: str | Path, fuzzy_pool: int = 300):
        self.path = Path(path)
        if not self.path.is_file():
            raise ZhnlpError(f"{self.path}: knowledge base not found. Build one with `zhnlp kbqa build-kb "
                             f"TRIPLES.txt {self.path}`.")
        self.fuzzy_pool = int(fuzzy_pool)
        self.con = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)
        try:
            meta = dict(self.con.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            self.con.close()
            raise ZhnlpError(f"{self.path}: not a zhnlp KB ({exc}). Build one with `zhnlp kbqa build-kb`.") from None
        if meta.get("format") != FORMAT:
            self.con.close()
            raise ZhnlpError(f"{self.path}: KB format {meta.get('format')!r}, expected {FORMAT!r}; rebuild it with "
                             f"`zhnlp kbqa build-kb`.")
        self.meta = meta

    def close(self) -> None:
        self.con.close()

    def _names(self, sql: str, params: tuple) -> list[str]:
        return [row[0] for row in self.con.execute(sql, params)]

    def by_name(self, text: str) -> list[str]:
        k = lookup_key(text)
        if not k:
            return []
        return self._names("SELECT name FROM entities WHERE name_key = ? ORDER BY n_triples DESC, name", (k,))

    def by_names(self, texts: Iterable[str]) -> dict[str, list[str]]:
        """Batch ``by_name``: key -> entity names, for the keys that name an entity."""
        keys = list(dict.fromkeys(k for k in map(lookup_key, texts) if k))
        found: dict[str, list[str]] = {}
        for start in range(0, len(keys), SQL_CHUNK):
            chunk = keys[start : start + SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT name_key, name FROM entities WHERE name_key IN ({marks}) ORDER BY n_triples DESC, name"
            for name_key, name in self.con.execute(sql, chunk):
                found.setdefault(name_key, []).append(name)
        return found

    def by_alias(self, text: str) -> list[str]:
        k = key(text)
        if not k:
            return []
        return self._names("SELECT DISTINCT e.name FROM aliases a JOIN entities e ON e.id = a.entity_id "
                           "WHERE a.alias_key = ? ORDER BY e.n_triples DESC, e.name", (k,))

    def prefix(self, text: str, limit: int = 20) -> list[str]:
        """Entity names whose key starts with ``key(text)`` (index range scan)."""
        k = key(text)
        if not k:
            return []
        return self._names("SELECT name FROM entities WHERE name_key >= ? AND name_key < ? ORDER BY name_key LIMIT ?",
                           (k, k + "\U0010ffff", int(limit)))

    def contains(self, text: str, limit: int = 20) -> list[str]:
        """Entity names containing ``text`` as typed (raw names, ASCII case ignored; LIKE with ``%``,
        ``_`` and ``\\`` escaped, so they match only themselves). A full scan: for tools, not per question."""
        if not text.strip():
            return []
        return self._names("SELECT name FROM entities WHERE name LIKE ? ESCAPE '\\' ORDER BY n_triples DESC, name "
                           "LIMIT ?", ("%" + escape_like(text.strip()) + "%", int(limit)))

    def fuzzy(self, text: str, limit: int = 20) -> list[tuple[str, float]]:
        k = key(text)[:MAX_KEY_CHARS]
        if not k:
            return []
        pool: dict[str, tuple[str, int]] = {}
        grams = bigrams(k)
        if grams:
            marks = ",".join("?" * len(grams))
            rows = self.con.execute(
                f"SELECT e.name, e.name_key, e.n_triples FROM (SELECT entity_id, COUNT(*) AS hits FROM grams "
                f"WHERE gram IN ({marks}) GROUP BY entity_id ORDER BY hits DESC LIMIT ?) g "
                f"JOIN entities e ON e.id = g.entity_id", (*grams, self.fuzzy_pool))
            pool.update((name, (name_key, n)) for name, name_key, n in rows)
        for name, name_key, n in self.con.execute(
                "SELECT name, name_key, n_triples FROM entities WHERE name_key >= ? AND name_key < ? LIMIT ?",
                (k, k + "\U0010ffff", int(limit))):
            pool[name] = (name_key, n)
        scored = [(name, char_overlap(k, name_key[:MAX_KEY_CHARS]), n) for name, (name_key, n) in pool.items()]
        scored.sort(key=lambda x: (-x[1], -x[2], x[0]))
        return [(name, sim) for name, sim, _ in scored[:limit]]

    def predicates(self, subject: str) -> list[str]:
        return self._names("SELECT predicate FROM triples WHERE subject = ? GROUP BY predicate ORDER BY MIN(rowid)",
                           (subject,))

    def objects(self, subject: str, predicate: str) -> list[str]:
        rows = self._names("SELECT object FROM triples WHERE subject = ? AND predicate = ? ORDER BY rowid",
                           (subject, predicate))
        return list(dict.fromkeys(rows))

    def count(self, table: str = "triples") -> int:
        """Rows in ``triples``, ``entities``, ``aliases`` or ``grams``."""
        if table not in ("triples", "entities", "aliases", "grams"):
            raise ValueError(table)
        return self.con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

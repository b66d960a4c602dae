#!/usr/bin/python3
"""load_bench.py - `flowpush demo --scale` beside SQLite alone writing the same rows.

Usage: bench/load_bench.py [--build DIR] [--scale N] [--collection C]
                           [--rounds R] [--dir DIR] [--json FILE]
                           [--loaded FILE]

Each round, on empty files in --dir (default run/):

load: `flowpush init`, then `flowpush demo --scale N C`: the records made,
  validated and written through the store engine with their journal rows,
  in batches of 2,000 (cli/scale.c). C is keyword-sets (the default),
  personas or proxy-pools: the floors copy one journal row a record.
same rows: SQLite alone (Python's sqlite3 over the same libsqlite3, no
  flowpush code) writes what the load wrote into a new file with the same
  schema and pragmas: the same batches of 2,000 in one transaction each,
  every row with its unique keys, sort indexes and counter upserts (the
  insert trigger), the batch's search rows in one INSERT ... SELECT (as the
  load does) and its journal rows (the records' and the dashboard's). The rows are copied from the loaded
  file (INSERT ... SELECT from an attached database), so this floor also
  pays for reading them: it is if anything a little slow.
no sort indexes: the same without the collection's sort and filter
  indexes (the unique keys stay).
bare rows: the rows alone with their unique keys and counters: no sort
  indexes, no search rows, no journal.

--loaded FILE measures the three floors only, on a file that a load of
--scale N records of --collection into an empty file made (e.g. the
million keyword sets of bench/list_bench.py --keep), and leaves it as it
was.

Reported for each: records a second of wall-clock time and per CPU second
(user + system of the process doing the work), and CPU microseconds per
record. Rounds alternate the order of the parts. The machine is shared:
read the ratios within a round, and CPU rather than wall-clock time.
"""

import argparse
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import time
import urllib.parse

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 2000          # cli/scale.c SCALE_BATCH


def unlink_db(path):
    for suffix in ("", "-wal", "-shm", ".conf"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def result(part, n, wall, cpu):
    return {"part": part, "records": n, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "per_s": round(n / wall), "per_cpu_s": round(n / cpu), "cpu_us": round(cpu / n * 1e6, 1)}


def load(build, db, n, coll):
    unlink_db(db)
    conf = db + ".conf"
    run = lambda *args: subprocess.run([os.path.join(build, "flowpush"), "--config", conf] + list(args),
                                       check=True, stdout=subprocess.DEVNULL)
    run("init", "--database", db)
    c0, t0 = children_cpu(), time.time()
    run("demo", "--scale", str(n), coll)
    return result("load", n, time.time() - t0, children_cpu() - c0)


def floor(src, dst, table, n, part):
    """SQLite alone writes the rows of table from src into dst (see the top)."""
    unlink_db(dst)
    ro = "file:%s?mode=ro" % urllib.parse.quote(os.path.abspath(src))
    s = sqlite3.connect(ro, uri=True)
    schema = [r for r in s.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE '%\\_fts\\_%' ESCAPE '\\' ORDER BY type <> 'table', rowid")]
    topic = table.replace("_", "-")
    seqs = [r[0] for r in s.execute("SELECT seq FROM journal WHERE topic = ? ORDER BY seq", (topic,))]
    last_seq, others = s.execute("SELECT max(seq), count(*) FILTER (WHERE topic NOT IN (?, 'dashboard')) "
                                 "FROM journal", (topic,)).fetchone()
    last_rk = s.execute("SELECT max(rk) FROM %s" % table).fetchone()[0]
    s.close()
    # Record k (its row key) has the k-th journal row of the topic; the rows
    # of a batch run from its first record's to the next batch's first,
    # with the dashboard's row that the batch's commit wrote.
    if len(seqs) != n or others or last_rk != n:
        sys.exit("load_bench: %s holds %d journal rows of %s and %s rows, not one of each for %d records: load "
                 "into an empty file, and a collection whose load writes one journal row a record "
                 "(keyword-sets, personas, proxy-pools)" % (src, len(seqs), topic, last_rk, n))
    indexes = part == "same rows"
    search = journal = part != "bare rows"
    d = sqlite3.connect("file:" + urllib.parse.quote(os.path.abspath(dst)), isolation_level=None, uri=True)
    # The pragmas flowpush sets on its files (common/db.c, common/txn.c).
    for p in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-131072"):
        d.execute("PRAGMA " + p)
    for kind, name, sql in schema:
        if kind == "index" and not indexes and not sql.startswith("CREATE UNIQUE"):
            continue
        if kind == "trigger" and name == table + "_ins":
            # The load swaps this trigger for one without the search row
            # and adds the batch's search rows at once (schema_bulk_begin).
            sql, k = re.subn(r" INSERT INTO \w+_fts\(rowid, text\) VALUES \(.*\); END$", " END", sql)
            assert k == 1, sql
        d.execute(sql)
    d.execute("ATTACH ? AS src", (ro,))
    c0, t0 = self_cpu(), time.time()
    for a in range(1, n + 1, BATCH):
        b = min(n, a + BATCH - 1)
        d.execute("BEGIN IMMEDIATE")
        d.execute("INSERT INTO main.%s SELECT * FROM src.%s WHERE rk BETWEEN ? AND ?" % (table, table), (a, b))
        if search:
            d.execute("INSERT INTO main.%s_fts(rowid, text) SELECT rowid, text FROM src.%s_fts "
                      "WHERE rowid BETWEEN ? AND ?" % (table, table), (a, b))
        if journal:
            d.execute("INSERT INTO main.journal SELECT * FROM src.journal WHERE seq BETWEEN ? AND ?",
                      (seqs[a - 1], seqs[b] - 1 if b < n else last_seq))
        d.execute("COMMIT")
    d.close()   # its last checkpoint counted, as the load's is
    out = result(part, n, time.time() - t0, self_cpu() - c0)
    d = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(os.path.abspath(dst)), uri=True)
    copied = d.execute("SELECT count(*), (SELECT count(*) FROM journal) FROM %s" % table).fetchone()
    d.close()
    if copied != (n, last_seq - seqs[0] + 1 if journal else 0):
        sys.exit("load_bench: the floor wrote %d rows and %d journal rows" % copied)
    unlink_db(dst)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("FLOWPUSH_BUILD") or os.path.join(SRC, "run", "build"))
    ap.add_argument("--scale", type=int, default=100000)
    ap.add_argument("--collection", default="keyword-sets")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--dir", default=os.path.join(SRC, "run"))
    ap.add_argument("--json", default=None, help="append every result as a JSON line to FILE")
    ap.add_argument("--loaded", default=None, help="floors only, on this loaded file")
    a = ap.parse_args()
    if a.scale < BATCH or a.rounds < 1:
        sys.exit("load_bench: --scale takes at least %d records and --rounds at least 1" % BATCH)
    os.makedirs(a.dir, exist_ok=True)
    db, dst = os.path.join(a.dir, "bench-load.db"), os.path.join(a.dir, "bench-load-floor.db")
    if a.loaded:
        db = a.loaded
    table = a.collection.replace("-", "_")
    rows = []
    try:
        for r in range(a.rounds):
            parts = ["load", "same rows", "no sort indexes", "bare rows"][1 if a.loaded else 0:]
            if r % 2 and not a.loaded:
                # The floors first, on the file the last round loaded.
                parts = parts[1:] + parts[:1]
            for part in parts:
                if part == "load":
                    row = load(a.build, db, a.scale, a.collection)
                else:
                    row = floor(db, dst, table, a.scale, part)
                row["round"] = r + 1
                print(json.dumps(row), flush=True)
                if a.json:
                    with open(a.json, "a") as f:
                        f.write(json.dumps(row) + "\n")
                rows.append(row)
    finally:
        if not a.loaded:
            unlink_db(db)
        unlink_db(dst)

    print("\n| %s, %d records | round | records/s | per CPU second | CPU µs a record | load's CPU ÷ this |"
          % (a.collection, a.scale))
    print("|---|---|---|---|---|---|")
    for row in rows:
        mine = [x for x in rows if x["round"] == row["round"] and x["part"] == "load"]
        print("| %s | %d | %d | %d | %.1f | %s |" % (row["part"], row["round"], row["per_s"], row["per_cpu_s"],
                                                   row["cpu_us"], "%.2f" % (mine[0]["cpu_us"] / row["cpu_us"])
                                                   if mine else "-"))


if __name__ == "__main__":
    main()

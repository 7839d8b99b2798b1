#!/usr/bin/env python3
"""Search benchmark helpers (tests/perf/search.sh).

  search_bench.py seed PORT DOCS USERS THREADS OUT      registers USERS users, creates DOCS documents
                                                         over them (Zipf vocabulary, 200 B – 20 KB,
                                                         some shared) through the API; OUT gets
                                                         "user_id token" lines and the terms to query
  search_bench.py login PORT OUT USERS                   fresh tokens for the first USERS users of a
                                                         seeded database (tokens live 15 minutes)
  search_bench.py query PORT OUT TERM N                  N searches for TERM by users of OUT (round
                                                         robin); prints p50 p95 p99 in ms
  search_bench.py raw-sqlite DB OUT TERM N               the same ranked, permission-filtered FTS5
                                                         statement and the page's snippet() one,
                                                         straight on the database file
  search_bench.py raw-pg URL OUT TERM N                  the same for PostgreSQL, N statements in one
                                                         psql session with \\timing
"""
import http.client
import json
import math
import random
import sqlite3
import sys
import threading
import time

VOCAB = 50_000


def zipf_words(rng, n):
    # Word k has weight 1/(k+1): w0 is the commonest, w49999 the rarest.
    return ["w%d" % int(math.exp(rng.random() * math.log(VOCAB)) - 1) for _ in range(n)]


class Refused(Exception):
    def __init__(self, message, status=0):
        super().__init__(message)
        self.status = status


def post(conn, path, body, token=None):
    # 503 (overloaded) and 429 are waited out, as a client should; anything else >= 300 stops
    # the seed (raised, so that a seeding thread cannot end quietly with its share undone).
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    for attempt in range(100):
        conn.request("POST", path, json.dumps(body), headers)
        r = conn.getresponse()
        data = r.read()
        if r.status in (429, 503):
            time.sleep(min(2.0, 0.05 * (attempt + 1)))
            continue
        if r.status >= 300:
            raise Refused("%s answered %d: %s" % (path, r.status, data[:200]), r.status)
        return json.loads(data) if data else None
    raise Refused("%s kept answering %d" % (path, r.status))


def put(conn, path, body, token):
    conn.request("PUT", path, json.dumps(body), {"Content-Type": "application/json", "Authorization": "Bearer " + token})
    r = conn.getresponse()
    r.read()


def seed(port, docs, users, threads, out):
    port, docs, users, threads = int(port), int(docs), int(users), int(threads)
    conn = http.client.HTTPConnection("127.0.0.1", port)
    accounts = []
    for u in range(users):
        r = post(conn, "/api/v1/auth/register",
                 {"email": "u%d@bench.example" % u, "password": "correct horse battery staple"})
        accounts.append((r["user"]["id"], r["access_token"]))
    per_thread = docs // threads

    def fresh_token(c, owner):
        # Access tokens live 15 minutes; a long seed logs its users in again.
        r = post(c, "/api/v1/auth/login", {"email": "u%d@bench.example" % owner, "password": "correct horse battery staple"})
        accounts[owner] = (r["user"]["id"], r["access_token"])

    def work(t):
        rng = random.Random(t)
        c = http.client.HTTPConnection("127.0.0.1", port)
        for i in range(per_thread):
            owner = rng.randrange(users)
            size = int(math.exp(rng.uniform(math.log(200), math.log(20_000))))
            words = zipf_words(rng, max(3, size // 7))
            body = {"title": " ".join(zipf_words(rng, 4)), "content": " ".join(words),
                    "tags": sorted(set(zipf_words(rng, 2)))}
            try:
                doc = post(c, "/api/v1/documents", body, accounts[owner][1])
            except Refused as e:
                if e.status != 401:
                    raise
                fresh_token(c, owner)
                doc = post(c, "/api/v1/documents", body, accounts[owner][1])
            if rng.random() < 0.2:  # a fifth of the documents are shared with someone
                other = rng.randrange(users)
                if other != owner:
                    put(c, "/api/v1/documents/%s/shares/%s" % (doc["id"], accounts[other][0]), {"role": "viewer"},
                        accounts[owner][1])

    failures = []

    def guarded(t):
        try:
            work(t)
        except Exception as e:  # reported below: the seed must not claim documents it lost
            failures.append(repr(e))

    pool = [threading.Thread(target=guarded, args=(t,)) for t in range(threads)]
    for p in pool:
        p.start()
    for p in pool:
        p.join()
    if failures:
        sys.exit("seed failed: " + "; ".join(failures))
    with open(out, "w") as f:
        for uid, token in accounts:
            f.write("%s %s\n" % (uid, token))


def login(port, out, users):
    conn = http.client.HTTPConnection("127.0.0.1", int(port))
    lines = []
    for u in range(int(users)):
        r = post(conn, "/api/v1/auth/login",
                 {"email": "u%d@bench.example" % u, "password": "correct horse battery staple"})
        lines.append("%s %s\n" % (r["user"]["id"], r["access_token"]))
    with open(out, "w") as f:
        f.writelines(lines)


def percentiles(samples):
    samples.sort()
    pick = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]
    return "%.2f %.2f %.2f" % (pick(0.50), pick(0.95), pick(0.99))


def query(port, out, term, n):
    accounts = [line.split() for line in open(out)]
    conn = http.client.HTTPConnection("127.0.0.1", int(port))
    samples = []
    q = term.replace(" ", "%20").replace('"', "%22")
    for i in range(int(n)):
        uid, token = accounts[i % len(accounts)]
        start = time.perf_counter()
        conn.request("GET", "/api/v1/search?q=%s&limit=20" % q, headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        r.read()
        samples.append((time.perf_counter() - start) * 1000)
        if r.status != 200:
            sys.exit("search answered %d" % r.status)
    print(percentiles(samples))


RAW_SQLITE = """
SELECT entry, kind, ref_id, title, score, updated_at FROM (
  SELECT e.entry, e.kind, e.ref_id, e.title, -bm25(search_fts, 10.0, 4.0, 1.0, 0.0) AS score, e.updated_at
  FROM search_fts JOIN search_entries e ON e.entry = search_fts.rowid
  WHERE search_fts MATCH ?)
ORDER BY score DESC, ref_id LIMIT 21"""
SNIPPETS_SQLITE = """SELECT rowid, snippet(search_fts, -1, char(1), char(2), '…', 24) FROM search_fts
  WHERE search_fts MATCH ? AND rowid IN (%s)"""


def reader_token(uid):
    # As the server's reader_token(): the permission filter is the caller's token, intersected
    # with the words inside the engine.
    return "r" + "".join(c for c in uid.lower() if c.isalnum())


def raw_sqlite(db, out, term, n):
    accounts = [line.split() for line in open(out)]
    conn = sqlite3.connect(db)
    match = " AND ".join('"%s"' % w for w in term.split())
    samples = []
    for i in range(int(n)):
        uid = accounts[i % len(accounts)][0]
        q = 'readers : "%s" AND {title tags body} : (%s)' % (reader_token(uid), match)
        start = time.perf_counter()
        rows = conn.execute(RAW_SQLITE, (q,)).fetchall()
        if rows:  # the page's snippets, the server's second statement
            conn.execute(SNIPPETS_SQLITE % ",".join(str(r[0]) for r in rows[:20]),
                         ("{title tags body} : (%s)" % match,)).fetchall()
        samples.append((time.perf_counter() - start) * 1000)
    print(percentiles(samples))


# The ranked page, then the page's texts for snippets (the server's second statement; the snippet
# window itself is the server's C++, on the HTTP side of the ratio).
RAW_PG = """WITH page AS (SELECT e.entry, e.kind, e.ref_id, e.title, ts_rank_cd(e.tsv, q.query) AS score, e.updated_at
 FROM search_entries e, (SELECT to_tsquery('bookspace_search', '%s') AS query) q
 WHERE e.tsv @@ (q.query && CAST('%s' AS tsquery))
 ORDER BY score DESC, e.ref_id LIMIT 21)
 SELECT p.*, CASE WHEN e.body = '' THEN e.title ELSE left(e.body, 100000) END FROM page p
 JOIN search_entries e ON e.entry = p.entry;"""


def raw_pg(url, out, term, n):
    import re
    import subprocess
    accounts = [line.split() for line in open(out)]
    tsquery = " & ".join("''%s'':ABC" % w for w in term.split())  # the benchmark's terms are plain words
    script = "\\timing on\n\\o /dev/null\n"
    for i in range(int(n)):
        uid = accounts[i % len(accounts)][0]
        script += RAW_PG % (tsquery, "''%s'':D" % reader_token(uid)) + "\n"
    run = subprocess.run(["psql", "-X", "-q", url], input=script, capture_output=True, text=True, check=True)
    samples = [float(m) for m in re.findall(r"Time: ([0-9.]+) ms", run.stdout + run.stderr)]
    if len(samples) != int(n):
        sys.exit("psql printed %d timings for %s statements" % (len(samples), n))
    print(percentiles(samples))


if __name__ == "__main__":
    {"seed": seed, "login": login, "query": query, "raw-sqlite": raw_sqlite, "raw-pg": raw_pg}[sys.argv[1]](*sys.argv[2:])

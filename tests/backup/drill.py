"""The restore drill (issue 24), one database per run: writers create documents and upload files
while `bookspace backup` runs; the server and the writers are killed (-9); the backup is
verified, restored into a fresh data directory and database, and served. Nothing acknowledged
before the backup's point may be missing, and no blob may be missing or corrupt.
    drill.py --binary B --work DIR --database URL --restore-database URL"""
import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "deploy"))
from client import Api, Failure, check, poll  # noqa: E402


def start(binary, data_dir, database, log_path):
    env = dict(os.environ, BOOKSPACE_DATABASE_URL=database, BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE="1000",
               BOOKSPACE_AUTH_LOGIN_PER_IP_PER_MINUTE="1000")
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
                            stdout=subprocess.DEVNULL, stderr=open(log_path, "w"), env=env)

    def port():
        if proc.poll() is not None:
            raise Failure(f"the server exited: {open(log_path).read()[-2000:]}")
        m = re.search(r'"msg":"listening".*?"port":(\d+)', open(log_path).read())
        return m and int(m.group(1))
    p, _ = poll("listening", port, timeout=30, interval=0.05)
    return proc, Api(f"http://127.0.0.1:{p}")


def writer(api, token, n, acked, stop):
    """Documents and files, each recorded with the time its 2xx came."""
    i = 0
    while not stop.is_set():
        i += 1
        try:
            r = api.call("POST", "/documents", {"title": f"w{n}-{i}", "content": f"drill {n} {i}"}, token=token)
            if r.status == 201:
                acked.append(("document", r.json()["id"], None, time.time()))
            body = os.urandom(2000 + i) if i % 2 else f"text {n} {i}\n".encode() * 50
            r = api.call("POST", f"/files?name=w{n}-{i}.bin", raw=body, token=token,
                         headers={"Content-Type": "application/octet-stream"})
            if r.status == 201:
                acked.append(("file", r.json()["id"], hashlib.sha256(body).hexdigest(), time.time()))
        except Exception:  # the server was killed: the writer stops
            if stop.is_set():
                return
            time.sleep(0.05)


def cli(binary, *args, database, data_dir):
    env = dict(os.environ, BOOKSPACE_DATABASE_URL=database)
    return subprocess.run([binary, *args, "--data-dir", data_dir], env=env, capture_output=True, text=True,
                          timeout=600)


def main():
    p = argparse.ArgumentParser()
    for name in ("binary", "work", "database", "restore-database"):
        p.add_argument("--" + name, required=True)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    live_dir, restored_dir, backups = (os.path.join(a.work, d) for d in ("live", "restored", "backups"))
    proc, api = start(a.binary, live_dir, a.database, os.path.join(a.work, "live.log"))
    token = api.register("drill@example.com")["access_token"]
    acked, stop = [], threading.Event()
    threads = [threading.Thread(target=writer, args=(api, token, n, acked, stop)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        # A first backup, then a second one while the writes go on (incremental for blobs).
        for _ in range(2):
            r = cli(a.binary, "backup", "--to", backups, database=a.database, data_dir=live_dir)
            check(r.returncode == 0, f"backup: {r.returncode} {r.stdout} {r.stderr}")
            time.sleep(0.5)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in threads:
            t.join(timeout=30)
    sets = sorted(d for d in os.listdir(backups) if d.startswith("backup-"))
    check(len(sets) == 2, f"two backups: {sets}")
    manifest = json.load(open(os.path.join(backups, sets[-1], "manifest.json")))
    point = manifest["point"] / 1000.0
    before = [x for x in acked if x[3] < point]
    after = [x for x in acked if x[3] >= point]
    check(len(before) > 20 and after, f"writes before ({len(before)}) and after ({len(after)}) the point")
    check(manifest["modules"]["files"]["copied"] < manifest["modules"]["files"]["blobs"],
          f"the second backup copied only new blobs: {manifest['modules']['files']}")

    r = cli(a.binary, "backup", "verify", backups, database=a.database, data_dir=live_dir)
    check(r.returncode == 0, f"verify: {r.stdout} {r.stderr}")
    r = cli(a.binary, "restore", "--from", backups, database=a.database, data_dir=live_dir)
    check(r.returncode == 2, f"a restore over the live deployment is refused: {r.returncode} {r.stderr}")
    r = cli(a.binary, "restore", "--from", backups, database=a.restore_database, data_dir=restored_dir)
    check(r.returncode == 0, f"restore: {r.returncode} {r.stdout} {r.stderr}")

    proc, api = start(a.binary, restored_dir, a.restore_database, os.path.join(a.work, "restored.log"))
    try:
        token = api.call("POST", "/auth/login", {"email": "drill@example.com",
                                                 "password": "correct horse battery"}).json()["access_token"]
        for kind, id_, sha, _ in before:
            if kind == "document":
                r = api.call("GET", f"/documents/{id_}", token=token)
                check(r.status == 200, f"document {id_} acknowledged before the point: {r.status}")
            else:
                r = api.call("GET", f"/files/{id_}/content", token=token)
                check(r.status == 200 and hashlib.sha256(r.body).hexdigest() == sha,
                      f"file {id_} acknowledged before the point: {r.status}")
        r = api.call("GET", "/search?q=drill", token=token)
        check(r.status == 200 and r.json()["items"], f"search over the restored data: {r.status} {r.text()}")
        print(f"drill: {len(before)} writes before the point all restored ({len(after)} after it)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"drill FAILED: {e}", file=sys.stderr)
        sys.exit(1)

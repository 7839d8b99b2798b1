"""Blobs on a real S3 server through the real binary (tests/s3/run.sh runs it once per database).
Each check reads back what BookSpace wrote with boto3, an independent S3 client."""
import argparse
import base64
import hashlib
import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "deploy"))
from client import Api, Failure, check, poll  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

MiB = 1 << 20


def args():
    p = argparse.ArgumentParser()
    for name in ("binary", "endpoint", "s3-dir", "s3-script", "database", "work", "bucket"):
        p.add_argument("--" + name, required=True)
    return p.parse_args()


class S3:
    """boto3 on the same server: what BookSpace wrote, seen from outside."""

    def __init__(self, endpoint, bucket):
        self.bucket = bucket
        self.c = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test:tester",
                              aws_secret_access_key="testing", region_name="us-east-1",
                              config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def objects(self, prefix=""):
        out, token = {}, None
        while True:
            kw = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                kw["ContinuationToken"] = token
            r = self.c.list_objects_v2(**kw)
            for o in r.get("Contents", []):
                out[o["Key"]] = o["Size"]
            if not r.get("IsTruncated"):
                return out
            token = r["NextContinuationToken"]

    def multipart(self):
        return self.c.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])

    def sha256_of(self, key):
        return hashlib.sha256(self.c.get_object(Bucket=self.bucket, Key=key)["Body"].read()).hexdigest()


class Server:
    """One bookspace process; env on top of the common S3 settings."""
    count = 0

    def __init__(self, t, **env):
        Server.count += 1
        self.name = f"server{Server.count}"
        self.data = os.path.join(t.work, self.name)
        os.makedirs(self.data, exist_ok=True)
        self.log_path = os.path.join(t.work, self.name + ".log")
        e = dict(os.environ)
        e.update(t.env)
        e.update({k.upper(): str(v) for k, v in env.items()})
        self.proc = subprocess.Popen([t.binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"), env=e)

        def port():
            if self.proc.poll() is not None:
                raise Failure(f"{self.name} exited: {self.log()[-2000:]}")
            m = re.search(r'"msg":"listening".*?"port":(\d+)', self.log())
            return m and int(m.group(1))
        p, _ = poll(f"{self.name} listening", port, timeout=30, interval=0.05)
        self.api = Api(f"http://127.0.0.1:{p}")
        self.base = f"http://127.0.0.1:{p}"

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def rss_peak_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)


class Test:
    def __init__(self, a):
        self.binary, self.work, self.a = a.binary, a.work, a
        os.makedirs(self.work, exist_ok=True)
        self.s3 = S3(a.endpoint, a.bucket)
        self.s3.c.create_bucket(Bucket=a.bucket)
        key = lambda: base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")  # noqa: E731
        self.env = {"BOOKSPACE_DATABASE_URL": a.database, "BOOKSPACE_FILES_STORAGE": "s3",
                    "BOOKSPACE_FILES_S3_ENDPOINT": a.endpoint, "BOOKSPACE_FILES_S3_BUCKET": a.bucket,
                    "BOOKSPACE_FILES_S3_ACCESS_KEY_ID": "test:tester",
                    "BOOKSPACE_FILES_S3_SECRET_ACCESS_KEY": "testing",
                    "BOOKSPACE_FILES_S3_PART_SIZE_BYTES": str(5 * MiB),
                    "BOOKSPACE_AUTH_SIGNING_KEY": key(), "BOOKSPACE_FILES_LINK_KEY": key(),
                    "BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE": "1000",
                    "BOOKSPACE_AUTH_LOGIN_PER_IP_PER_MINUTE": "1000"}
        self.s3_script, self.s3_dir = a.s3_script, a.s3_dir


def upload(api, token, data, name="f.bin", expect=201):
    r = api.call("POST", f"/files?name={name}", raw=data, token=token,
                 headers={"Content-Type": "application/octet-stream"})
    check(r.status == expect, f"upload {name}: {r.status} {r.text()}")
    return r


def download(api, token, file_id, headers=None):
    return api.call("GET", f"/files/{file_id}/content", token=token, headers=headers)


def object_of(t, sha):
    """The object holding the content: found by its bytes, since its key is not the hash."""
    matches = [k for k in t.s3.objects("blobs/") if t.s3.sha256_of(k) == sha]
    check(len(matches) == 1, f"one object holds {sha[:12]}…: {matches}")
    check(sha not in matches[0], "the object key is not the hash")
    return matches[0]


def streamed_upload_rss(t, server, token):
    """A 200 MiB upload (40 parts of 5 MiB) streams: the server's peak RSS grows by < 64 MiB."""
    before = server.rss_peak_kib()
    h = hashlib.sha256()
    c = http.client.HTTPConnection("127.0.0.1", server.api.port, timeout=120)
    c.putrequest("POST", "/api/v1/files?name=big.bin")
    c.putheader("Authorization", "Bearer " + token)
    c.putheader("Content-Type", "application/octet-stream")
    c.putheader("Content-Length", str(200 * MiB))
    c.endheaders()
    block = os.urandom(MiB)
    for i in range(200):
        chunk = bytes([i & 255]) + block[1:]
        h.update(chunk)
        c.send(chunk)
    r = c.getresponse()
    body = r.read()
    check(r.status == 201, f"200 MiB upload: {r.status} {body[:200]}")
    grown = (server.rss_peak_kib() - before) / 1024
    if not os.environ.get("BOOKSPACE_TEST_SANITIZED"):
        check(grown < 64, f"peak RSS grew {grown:.0f} MiB during a 200 MiB upload")
    print(f"  200 MiB upload: peak RSS {before // 1024} → {server.rss_peak_kib() // 1024} MiB")
    import json
    f = json.loads(body)
    check(f["sha256"] == h.hexdigest(), "the stored hash is the content's")
    return f


def basics(t, server, token):
    api = server.api
    small = b"hello s3\n"
    f1 = upload(api, token, small, "small.txt").json()
    big = os.urandom(17 * MiB + 123)  # four parts of 5 MiB
    f2 = upload(api, token, big, "big.bin").json()
    check(f2["sha256"] == hashlib.sha256(big).hexdigest(), "hash of a multipart upload")
    check(download(api, token, f1["id"]).body == small, "small download")
    d = download(api, token, f2["id"])
    check(d.status == 200 and d.body == big, f"big download: {d.status} {len(d.body)}")
    check(d.headers["etag"] == f'"{f2["sha256"]}"', "ETag is the hash")
    r = download(api, token, f2["id"], {"Range": "bytes=5242870-5242889"})
    check(r.status == 206 and r.body == big[5242870:5242890], f"Range across a part boundary: {r.status}")
    check(r.headers["content-range"] == f"bytes 5242870-5242889/{len(big)}", r.headers.get("content-range"))
    r = download(api, token, f2["id"], {"Range": "bytes=-10"})
    check(r.status == 206 and r.body == big[-10:], "suffix range")
    r = download(api, token, f2["id"], {"Range": f"bytes={len(big)}-"})
    check(r.status == 416, f"range past the end: {r.status}")
    r = download(api, token, f2["id"], {"If-None-Match": d.headers["etag"]})
    check(r.status == 304 and r.body == b"", f"If-None-Match: {r.status}")
    r = api.call("HEAD", f"/files/{f2['id']}/content", token=token)
    check(r.status == 200 and int(r.headers["content-length"]) == len(big), "HEAD")
    # The empty file: one empty object; its download is empty; any Range is past its end.
    empty = upload(api, token, b"", "empty.txt").json()
    check(empty["size"] == 0, f"empty upload: {empty}")
    r = download(api, token, empty["id"])
    check(r.status == 200 and r.body == b"" and r.headers["content-length"] == "0", f"empty download: {r.status}")
    check(download(api, token, empty["id"], {"Range": "bytes=0-"}).status == 416, "Range on the empty file")
    r = api.call("POST", "/uploads", token=token, headers={"Tus-Resumable": "1.0.0", "Upload-Length": "0"})
    check(r.status == 201 and r.headers.get("bookspace-file-id"), f"an empty tus upload completes at once: {r.status}")
    # Independently: the bytes are in the bucket under a key that is not their hash.
    key = object_of(t, f2["sha256"])
    check(t.s3.objects()[key] == len(big), "the object's size")
    # Dedup: the same content again adds no object.
    before = set(t.s3.objects("blobs/"))
    f3 = upload(api, token, big, "again.bin").json()
    check(f3["sha256"] == f2["sha256"], "same hash")
    check(set(t.s3.objects("blobs/")) == before, "a duplicate's object is deleted")
    check(t.s3.multipart() == [], f"no multipart upload left: {t.s3.multipart()}")
    # Text extraction reads the blob from S3: the file is found by a word inside it.
    upload(api, token, b"a quokkafish in the bucket\n", "note.txt")

    def found():
        r = api.call("GET", "/search?q=quokkafish", token=token)
        return r.status == 200 and any(i["type"] == "file" for i in r.json()["items"])
    poll("the file's text is searchable", found, timeout=30, interval=0.2)
    # Signed links work unauthenticated.
    link = api.call("POST", f"/files/{f2['id']}/links", {"expires_in": 60}, token=token).json()
    r = api.call("GET", link["url"])
    check(r.status == 200 and r.body == big, f"signed link: {r.status}")
    return f2, big


def slow_download_with_restart(t, server, token, file, data):
    """A client that reads slowly, and the S3 front restarted meanwhile: the download completes
    intact (the server resumes its fetch with a Range), and the server never buffers the file."""
    c = http.client.HTTPConnection("127.0.0.1", server.api.port, timeout=60)
    c.request("GET", f"/api/v1/files/{file['id']}/content", headers={"Authorization": "Bearer " + token})
    r = c.getresponse()
    check(r.status == 200, f"slow download: {r.status}")
    got = bytearray(r.read(2 * MiB))
    subprocess.run([t.s3_script, "stop-proxy", t.s3_dir], check=True)
    time.sleep(1.0)
    subprocess.run([t.s3_script, "start-proxy", t.s3_dir], check=True)
    while True:
        chunk = r.read(256 * 1024)
        if not chunk:
            break
        got += chunk
    c.close()
    check(bytes(got) == data, f"download across an S3 restart: {len(got)} of {len(data)} bytes")


def stopped_mid_upload(t, server, token):
    """The S3 server goes away during an upload: 503 with Retry-After, no row, and once it is
    back no multipart upload is left behind (the writer aborted it, or the sweep will)."""
    api = server.api
    listed = len(api.call("GET", "/files?limit=100", token=token).json()["items"])
    c = http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    c.putrequest("POST", "/api/v1/files?name=cut.bin")
    c.putheader("Authorization", "Bearer " + token)
    c.putheader("Content-Type", "application/octet-stream")
    c.putheader("Content-Length", str(30 * MiB))
    c.endheaders()
    stopped = False
    try:
        for i in range(30):
            if i == 12:  # two parts of 5 MiB have gone up
                subprocess.run([t.s3_script, "stop-proxy", t.s3_dir], check=True)
                stopped = True
            c.send(os.urandom(MiB))
    except OSError:
        pass  # the server answered and closed before the whole body went
    try:
        r = c.getresponse()
        status, retry = r.status, r.getheader("Retry-After")
    finally:
        c.close()
        if stopped:
            subprocess.run([t.s3_script, "start-proxy", t.s3_dir], check=True)
    check(status == 503 and retry, f"upload cut by S3 going away: {status} Retry-After {retry}")
    after = len(api.call("GET", "/files?limit=100", token=token).json()["items"])
    check(after == listed, "no row for the cut upload")
    # Its multipart upload could not be aborted while S3 was away; the next storage check does.
    poll("the cut upload's multipart upload aborted", lambda: t.s3.multipart() == [], timeout=30, interval=0.5)


def faults(t, server, token):
    stopped_mid_upload(t, server, token)
    api = server.api
    # S3 unreachable: 503 with Retry-After, no row written.
    subprocess.run([t.s3_script, "stop-proxy", t.s3_dir], check=True)
    try:
        listed = api.call("GET", "/files?limit=100", token=token).json()["items"]
        r = upload(api, token, os.urandom(1000), "down.bin", expect=503)
        check("retry-after" in r.headers, "503 has Retry-After")
        r = upload(api, token, os.urandom(7 * MiB), "down2.bin", expect=503)
        after = api.call("GET", "/files?limit=100", token=token).json()["items"]
        check(len(after) == len(listed), "no row for a failed upload")

        def not_ready():
            r = api.call("GET", "/readyz")
            return r.status == 503 and r.json()["checks"].get("storage") == "unreachable"
        poll("readyz names the storage", not_ready, timeout=30, interval=0.5)
    finally:
        subprocess.run([t.s3_script, "start-proxy", t.s3_dir], check=True)
    poll("ready again", lambda: api.call("GET", "/readyz").status == 200, timeout=30, interval=0.5)
    upload(api, token, b"back", "back.txt")


def tus(t, servers, token):
    """A tus upload started on one instance resumes on another with an empty data dir: its
    state is in the database and the bucket, nothing local."""
    a = servers[0].api
    data = os.urandom(12 * MiB + 7)
    r = a.call("POST", "/uploads", token=token, headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
        "Upload-Metadata": "filename " + base64.b64encode(b"tus.bin").decode()})
    check(r.status == 201, f"tus create: {r.status} {r.text()}")
    path = r.headers["location"]
    offset = 0
    # Short of a part (kept in a pending object), then past one, on different instances.
    for i, size in enumerate((3 * MiB, 4 * MiB, 2 * MiB)):
        api = servers[i % len(servers)].api
        r = api.call("PATCH", path, raw=data[offset:offset + size], token=token, headers={
            "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})
        check(r.status == 204, f"tus PATCH {i}: {r.status} {r.text()}")
        offset += size
        check(int(r.headers["upload-offset"]) == offset, "offset")
    api = servers[-1].api
    head = api.call("HEAD", path, token=token, headers={"Tus-Resumable": "1.0.0"})
    check(int(head.headers["upload-offset"]) == offset, f"HEAD on another instance: {head.headers}")
    r = api.call("PATCH", path, raw=data[offset:], token=token, headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
    check(r.status == 204 and "bookspace-file-id" in r.headers, f"tus last PATCH: {r.status} {r.text()}")
    fid = r.headers["bookspace-file-id"]
    d = download(servers[0].api, token, fid)
    check(d.body == data, "the tus upload's bytes")
    check(t.s3.objects("uploads/") == {}, f"no pending piece left: {t.s3.objects('uploads/')}")
    check(t.s3.multipart() == [], "no multipart upload left")
    return fid


def presign(t, token, file, data):
    s = Server(t, BOOKSPACE_FILES_S3_PRESIGN_DOWNLOADS="true")
    try:
        r = download(s.api, token, file["id"])
        check(r.status == 302, f"presigned: {r.status}")
        url = r.headers["location"]
        check(url.startswith(t.a.endpoint) and "X-Amz-Signature=" in url, url[:80])
        with urllib.request.urlopen(url, timeout=30) as got:
            check(got.read() == data, "the presigned URL serves the bytes")
        check("testing" not in url, "no secret in the URL")
    finally:
        s.stop()


def gc(t, token, files):
    """Deleting every file of a content removes its object after the grace (here 0)."""
    s = Server(t, BOOKSPACE_FILES_BLOB_GRACE_S="0", BOOKSPACE_FILES_GC_INTERVAL_S="1")
    try:
        sha = files[0]["sha256"]
        key = object_of(t, sha)
        for f in files:
            check(s.api.call("DELETE", f"/files/{f['id']}", token=token).status == 204, "delete")
        poll("the GC deletes the object", lambda: key not in t.s3.objects("blobs/"), timeout=30, interval=0.5)
    finally:
        s.stop()


def migrate(t, token):
    """migrate-storage both ways: S3 → local (then a server on local disk serves every file), a
    new upload on local disk, local → S3 (the earlier ones skipped), and S3 serves it."""
    data_dir = os.path.join(t.work, "migrated")
    os.makedirs(data_dir, exist_ok=True)

    def cli(to):
        e = dict(os.environ)
        e.update(t.env)
        r = subprocess.run([t.binary, "files", "migrate-storage", "--to", to, "--data-dir", data_dir],
                           env=e, capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, f"migrate-storage --to {to}: {r.returncode} {r.stdout} {r.stderr}")
        return r.stdout

    out = cli("local")
    check(" copied and checked" in out and " 0 missing" in out, out)
    local = Server(t, BOOKSPACE_FILES_STORAGE="local", BOOKSPACE_FILES_STORAGE_DIR=os.path.join(data_dir, "blobs"))
    try:
        items = local.api.call("GET", "/files?limit=100", token=token).json()["items"]
        check(items, "files to migrate")
        for f in items:
            r = download(local.api, token, f["id"])
            check(r.status == 200 and hashlib.sha256(r.body).hexdigest() == f["sha256"], f"local {f['name']}")
        fresh = os.urandom(6 * MiB)
        new = upload(local.api, token, fresh, "on-local.bin").json()
    finally:
        local.stop()
    out = cli("s3")
    check("1 copied and checked" in out, out)
    again = Server(t)
    try:
        check(download(again.api, token, new["id"]).body == fresh, "the migrated file on S3")
    finally:
        again.stop()


def wrong_settings(t):
    """A wrong secret or a missing bucket: not ready, one clear log line, no secret in it."""
    for env, state in (({"BOOKSPACE_FILES_S3_SECRET_ACCESS_KEY": "wrong-secret-value"}, "forbidden"),
                       ({"BOOKSPACE_FILES_S3_BUCKET": "no-such-bucket-here"}, "no_bucket")):
        s = Server(t, **env)
        try:
            r = s.api.call("GET", "/readyz")
            check(r.status == 503 and r.json()["checks"]["storage"] == state, f"readyz: {r.status} {r.text()}")
            log = s.log()
            check(log.count("blob storage not usable") == 1, "one log line")
            check("wrong-secret-value" not in log and "testing" not in log, "no secret logged")
        finally:
            s.stop()


def killed_mid_upload(t, token):
    """kill -9 during a multipart upload: the next start aborts the abandoned multipart upload."""
    s = Server(t)
    c = http.client.HTTPConnection("127.0.0.1", s.api.port, timeout=60)
    c.putrequest("POST", "/api/v1/files?name=killed.bin")
    c.putheader("Authorization", "Bearer " + token)
    c.putheader("Content-Length", str(40 * MiB))
    c.endheaders()
    for _ in range(15):
        c.send(os.urandom(MiB))
    poll("a multipart upload in progress", lambda: t.s3.multipart(), timeout=30, interval=0.2)
    s.stop(signal.SIGKILL)
    c.close()
    s2 = Server(t)
    try:
        poll("the abandoned multipart upload aborted", lambda: t.s3.multipart() == [], timeout=30, interval=0.5)
    finally:
        s2.stop()


def main():
    t = Test(args())
    first = Server(t)
    try:
        token = first.api.register("s3-owner@example.com")["access_token"]
        r = first.api.call("GET", "/readyz")
        check(r.status == 200 and r.json()["checks"]["storage"] == "ok", f"ready: {r.text()}")
        streamed_upload_rss(t, first, token)
        file, data = basics(t, first, token)
        print("  uploads, downloads, Range, ETag, dedup, text extraction, links: ok")
        slow_download_with_restart(t, first, token, file, data)
        print("  download across an S3 restart: ok")
        faults(t, first, token)
        print("  S3 unreachable → 503, no row; back → ready: ok")
        # A second instance with an empty data dir: the tus upload moves between them.
        second = Server(t)
        try:
            tus(t, [first, second], token)
            print("  tus across instances: ok")
        finally:
            second.stop()
        presign(t, token, file, data)
        print("  presigned downloads: ok")
        same = [f for f in first.api.call("GET", "/files?limit=100", token=token).json()["items"]
                if f["sha256"] == file["sha256"]]
        first.stop()
        first = None
        migrate(t, token)
        print("  migrate-storage to local and back to S3: ok")
        gc(t, token, same)
        print("  GC deletes the object: ok")
        wrong_settings(t)
        print("  wrong secret, missing bucket → not ready: ok")
        killed_mid_upload(t, token)
        print("  kill -9 mid-upload → multipart aborted at the next start: ok")
    except Failure:
        for name in sorted(os.listdir(t.work)):
            if name.endswith(".log"):
                print(f"--- {name}", file=sys.stderr)
                with open(os.path.join(t.work, name), errors="replace") as f:
                    print(f.read()[-3000:], file=sys.stderr)
        raise
    finally:
        if first:
            first.stop()


if __name__ == "__main__":
    main()

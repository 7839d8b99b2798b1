"""Uploads and downloads through BookSpace on S3 against the same transfer straight to the same
S3 server (boto3's transfer manager, the engine of `aws s3 cp`), in the same run, alternating, medians of ROUNDS; with the
server's CPU time and peak RSS. tests/perf/s3.sh starts Swift and runs this.
    s3_bench.py BINARY ENDPOINT WORK_DIR ROUNDS SIZES_MIB..."""
import hashlib
import http.client
import os
import re
import statistics
import subprocess
import sys
import time

import boto3
from botocore.config import Config

MiB = 1 << 20
binary, endpoint, work, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sizes = [int(s) for s in sys.argv[5:]] or [10, 100, 1024]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test:tester", aws_secret_access_key="testing",
                  region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="bench")
env = dict(os.environ, BOOKSPACE_FILES_STORAGE="s3", BOOKSPACE_FILES_S3_ENDPOINT=endpoint,
           BOOKSPACE_FILES_S3_BUCKET="bench", BOOKSPACE_FILES_S3_ACCESS_KEY_ID="test:tester",
           BOOKSPACE_FILES_S3_SECRET_ACCESS_KEY="testing", BOOKSPACE_FILES_MAX_FILE_BYTES=str(4 << 30),
           BOOKSPACE_FILES_QUOTA_BYTES="0", BOOKSPACE_LOG_ACCESS_LOG="false")
log = open(os.path.join(work, "server.log"), "w")
proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(work, "data")],
                        stdout=subprocess.DEVNULL, stderr=log, env=env)
port = None
for _ in range(300):
    m = re.search(r'"msg":"listening".*?"port":(\d+)', open(log.name).read())
    if m:
        port = int(m.group(1))
        break
    time.sleep(0.05)


def call(method, path, body=None, headers=None, token=None, sink=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    if sink:
        while chunk := r.read(1 << 20):
            sink(chunk)
        data = b""
    else:
        data = r.read()
    c.close()
    return r.status, data


import json  # noqa: E402
status, body = call("POST", "/api/v1/auth/register", json.dumps(
    {"email": "bench@example.com", "password": "correct horse battery"}), {"Content-Type": "application/json"})
token = json.loads(body)["access_token"]


def cpu_s():
    fields = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mib():
    return int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{proc.pid}/status").read()).group(1)) / 1024


class FileBody:
    """A file sent in 1 MiB reads (http.client streams a file object)."""

    def __init__(self, path):
        self.f = open(path, "rb")

    def read(self, n=-1):
        return self.f.read(min(n if n > 0 else MiB, MiB))


results = []
idle = peak_mib()
for size in sizes:
    path = os.path.join(work, f"blob-{size}")
    with open(path, "wb") as f:
        for i in range(size):
            f.write(os.urandom(MiB))
    ours_up, direct_up, ours_down, direct_down, cpu_up, cpu_down = [], [], [], [], [], []
    single_up, single_down = [], []
    for r in range(rounds):
        # Alternating: BookSpace, then direct, each round.
        c0, t0 = cpu_s(), time.monotonic()
        st, body = call("POST", f"/api/v1/files?name=b{size}-{r}", FileBody(path),
                        {"Content-Type": "application/octet-stream", "Content-Length": str(size * MiB)}, token)
        ours_up.append(time.monotonic() - t0)
        cpu_up.append(cpu_s() - c0)
        assert st == 201, (st, body[:200])
        fid = json.loads(body)["id"]
        # Direct: what `aws s3 cp` does (boto3's transfer manager, s3transfer: multipart in 8 MiB
        # parts, 10 at once, past 8 MiB).
        t0 = time.monotonic()
        s3.upload_file(path, "bench", f"direct-{size}-{r}")
        direct_up.append(time.monotonic() - t0)
        # Direct, one request (what `curl -T` does).
        t0 = time.monotonic()
        with open(path, "rb") as f:
            s3.put_object(Bucket="bench", Key=f"single-{size}-{r}", Body=f)
        single_up.append(time.monotonic() - t0)
        got = [0]
        c0, t0 = cpu_s(), time.monotonic()
        st, _ = call("GET", f"/api/v1/files/{fid}/content", token=token, sink=lambda b: got.__setitem__(0, got[0] + len(b)))
        ours_down.append(time.monotonic() - t0)
        cpu_down.append(cpu_s() - c0)
        assert st == 200 and got[0] == size * MiB, (st, got)
        t0 = time.monotonic()
        with open(os.devnull, "wb") as sink:
            s3.download_fileobj("bench", f"direct-{size}-{r}", sink)
        direct_down.append(time.monotonic() - t0)
        t0 = time.monotonic()
        stream = s3.get_object(Bucket="bench", Key=f"single-{size}-{r}")["Body"]
        while stream.read(MiB):
            pass
        single_down.append(time.monotonic() - t0)
        s3.delete_object(Bucket="bench", Key=f"single-{size}-{r}")
        s3.delete_object(Bucket="bench", Key=f"direct-{size}-{r}")
        call("DELETE", f"/api/v1/files/{fid}", token=token)
    os.unlink(path)
    m = statistics.median
    rate = lambda secs: size / secs  # noqa: E731
    results.append((size, rate(m(ours_up)), rate(m(direct_up)), rate(m(single_up)), rate(m(ours_down)),
                    rate(m(direct_down)), rate(m(single_down)), m(cpu_up) / size * 1000, m(cpu_down) / size * 1000))
peak = peak_mib()
proc.terminate()
proc.wait()
print("| size | up: BookSpace | aws s3 cp | one PUT | ratios | down: BookSpace | aws s3 cp | one GET | ratios "
      "| server CPU ms/MiB up / down |")
print("|---|---|---|---|---|---|---|---|---|---|")
for size, ou, du, su, od, dd, sd, cu, cd in results:
    print(f"| {size} MiB | {ou:.0f} MiB/s | {du:.0f} | {su:.0f} | {ou / du:.2f}× / {ou / su:.2f}× | {od:.0f} MiB/s "
          f"| {dd:.0f} | {sd:.0f} | {od / dd:.2f}× / {od / sd:.2f}× | {cu:.1f} / {cd:.1f} |")
print(f"server peak RSS: {idle:.0f} MiB before the transfers, {peak:.0f} MiB at most during them")

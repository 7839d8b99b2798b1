#!/usr/bin/env python3
"""Enqueue-to-start latency of the jobs queue with idle workers (tests/perf/jobs.sh).

  jobs_latency.py send PORT TOKEN COUNT GAP_MS OUT   POST /jobs (probe.record) one at a time,
                                                     GAP_MS apart; OUT gets "id sent_us" lines
  jobs_latency.py report SENT STARTED                STARTED has "id started_us" lines (from the
                                                     database); prints p50 p99 max in ms
"""
import http.client
import json
import sys
import time


def send(port, token, count, gap_ms, out):
    conn = http.client.HTTPConnection("127.0.0.1", int(port))
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
    body = json.dumps({"type": "probe.record"})
    with open(out, "w") as f:
        for _ in range(int(count)):
            sent = time.time_ns() // 1000
            conn.request("POST", "/api/v1/jobs", body, headers)
            r = conn.getresponse()
            data = r.read()
            if r.status != 202:
                sys.exit("POST /jobs answered %d: %s" % (r.status, data[:200]))
            f.write("%s %d\n" % (json.loads(data)["id"], sent))
            time.sleep(int(gap_ms) / 1000.0)


def report(sent_file, started_file):
    sent = dict(line.split() for line in open(sent_file) if line.strip())
    lat = []
    for line in open(started_file):
        parts = line.replace("|", " ").split()
        if len(parts) == 2 and parts[0] in sent:
            lat.append((int(parts[1]) - int(sent[parts[0]])) / 1000.0)
    if len(lat) != len(sent):
        sys.exit("only %d of %d jobs started" % (len(lat), len(sent)))
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("%.2f %.2f %.2f" % (pick(0.50), pick(0.99), lat[-1]))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(*sys.argv[2:7])
    else:
        report(*sys.argv[2:4])

#!/usr/bin/env python3
"""Hostile-client probes of one running BookSpace (loopback only, bounded in count and time).

  hostile.py bodies PORT PID N        N anonymous 6.3 MB POST /documents at once: peak RSS, RSS after
  hostile.py flood  PORT N            N idle connections from 127.0.0.1, then /healthz from 127.0.0.2
Prints one JSON line of figures.
"""
import json, os, selectors, socket, sys, time

def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

def healthz(port, source="127.0.0.2", timeout=3.0):
    start = time.monotonic()
    try:
        s = socket.socket()
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = s.recv(4096)
        s.close()
        ok = data.startswith(b"HTTP/1.1 200")
    except OSError as e:
        return {"ok": False, "error": str(e), "ms": round((time.monotonic() - start) * 1000, 1)}
    return {"ok": ok, "ms": round((time.monotonic() - start) * 1000, 1)}

def bodies(port, pid, n, length=6_300_000, deadline_s=60):
    head = (f"POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()
    chunk = b"x" * 65536
    sel = selectors.DefaultSelector()
    state = {}
    for _ in range(n):
        s = socket.socket()
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        state[s] = {"sent": -len(head), "answer": b""}
        sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ)
    idle_rss = rss_mib(pid)
    peak = idle_rss
    statuses = {}
    end = time.monotonic() + deadline_s
    while state and time.monotonic() < end:
        for key, ev in sel.select(timeout=0.1):
            s, st = key.fileobj, state[key.fileobj]
            try:
                if ev & selectors.EVENT_READ:
                    data = s.recv(65536)
                    if not data:
                        raise ConnectionResetError
                    st["answer"] += data
                    if b"\r\n" in st["answer"] and "status" not in st:
                        st["status"] = st["answer"][9:12].decode()
                if ev & selectors.EVENT_WRITE and st["sent"] < length:
                    if st["sent"] < 0:
                        n_ = s.send(head[len(head) + st["sent"]:])
                    else:
                        n_ = s.send(chunk[: min(len(chunk), length - st["sent"])])
                    st["sent"] += n_
                    if st["sent"] >= length:
                        sel.modify(s, selectors.EVENT_READ)
            except (ConnectionResetError, BrokenPipeError, OSError):
                code = st.get("status", "closed")
                statuses[code] = statuses.get(code, 0) + 1
                sel.unregister(s)
                s.close()
                del state[s]
        peak = max(peak, rss_mib(pid))
    for s in list(state):
        code = state[s].get("status", "unfinished")
        statuses[code] = statuses.get(code, 0) + 1
        s.close()
    time.sleep(2)
    return {"connections": n, "body_bytes": length, "rss_idle_mib": round(idle_rss, 1),
            "rss_peak_mib": round(peak, 1), "rss_after_mib": round(rss_mib(pid), 1), "answers": statuses}

def flood(port, n, hold_s=3):
    socks, refused = [], 0
    for _ in range(n):
        try:
            s = socket.socket()
            s.settimeout(2)
            s.connect(("127.0.0.1", port))
            socks.append(s)
        except OSError:
            refused += 1
    time.sleep(hold_s)
    alive = 0
    for s in socks:
        s.setblocking(False)
        try:
            alive += s.recv(1) == b"" and 0 or 0
        except BlockingIOError:
            alive += 1  # nothing to read and not closed: still open
        except OSError:
            pass
    probe = healthz(port)
    for s in socks:
        s.close()
    return {"idle_connections": n, "connect_failed": refused, "still_open_after_s": alive, "healthz_other_ip": probe}

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "bodies":
        print(json.dumps(bodies(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))))
    elif what == "flood":
        print(json.dumps(flood(int(sys.argv[2]), int(sys.argv[3]))))
    elif what == "healthz":
        print(json.dumps(healthz(int(sys.argv[2]), "127.0.0.1")))

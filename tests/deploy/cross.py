#!/usr/bin/env python3
"""Checks across instances of one deployment (three instances on one PostgreSQL), each talking
to a named instance directly:
  - a refresh token reused on another instance than the one that rotated it revokes the session;
  - concurrent PATCHes with one If-Match on two instances: one 200, one 412;
  - a job runs once (one attempt) whichever instance picks it;
  - a realtime event from an edit on instance 1 reaches a socket on instance 3;
  - a tus upload started on instance 1 goes on on 2 and completes on 3 (no volume is shared:
    the blobs are in S3, the upload's state in the database), and the file downloads on 1;
  - logout on one instance rejects the access token on the others at once.
    tests/deploy/cross.py URL1 URL2 URL3"""
import base64
import hashlib
import os
import sys
import threading
import time

from client import Api, Failure, Ws, check, unique


def cross(urls):
    one, two, three = (Api(u) for u in urls)

    # Refresh reuse, detected on another instance.
    reg = one.register(unique("carol"))
    first = reg["refresh_token"]
    rotated = two.call("POST", "/auth/refresh", {"refresh_token": first})
    check(rotated.status == 200, f"refresh on 2: {rotated.status}")
    reuse = three.call("POST", "/auth/refresh", {"refresh_token": first})
    check(reuse.status == 401, f"reuse on 3: {reuse.status}")
    after = one.call("POST", "/auth/refresh", {"refresh_token": rotated.json()["refresh_token"]})
    check(after.status == 401, f"the session after reuse, on 1: {after.status}")

    # Concurrent If-Match on two instances.
    owner = one.register(unique("dave"))
    token = owner["access_token"]
    doc = one.call("POST", "/documents", {"title": "race"}, token=token).json()["id"]
    etag = two.call("GET", f"/documents/{doc}", token=token).headers["etag"]
    statuses = []
    barrier = threading.Barrier(2)

    def patch(api, title):
        barrier.wait()
        statuses.append(api.call("PATCH", f"/documents/{doc}", {"title": title}, token=token,
                                 headers={"If-Match": etag}).status)
    threads = [threading.Thread(target=patch, args=(api, t)) for api, t in ((one, "from 1"), (two, "from 2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    check(sorted(statuses) == [200, 412], f"concurrent If-Match: {statuses}")

    # A job runs once.
    job_id = three.export(token, [doc])
    done = one.finished_job(token, job_id)
    check(done["status"] == "succeeded" and done["attempts"] == 1, f"job ran once: {done}")

    # A realtime event from instance 1 reaches a socket on instance 3.
    ws = Ws(urls[2])
    ok = ws.answer({"type": "auth", "token": token})
    check(ok and ok["type"] == "authenticated", f"auth on 3: {ok}")
    sub = ws.answer({"type": "subscribe", "topic": f"document:{doc}"})
    check(sub and sub["type"] == "subscribed", f"subscribe on 3: {sub}")
    etag = one.call("GET", f"/documents/{doc}", token=token).headers["etag"]
    sent = time.monotonic()
    check(one.call("PATCH", f"/documents/{doc}", {"title": "from 1 to 3"}, token=token,
                   headers={"If-Match": etag}).status == 200, "PATCH on 1")
    event = ws.next_of("event", 10, event="documents.updated")
    check(event and event["data"]["title"] == "from 1 to 3", f"event on 3: {event}")
    print(f"cross: an edit on 1 reached a socket on 3 in {(time.monotonic() - sent) * 1000:.0f} ms")

    tus_across(one, two, three, token)

    # Logout on one instance; the access token fails on the others at once: the 204 comes only
    # when every live instance has put the session into its token cache (docs/modules/auth.md).
    logging_out = time.monotonic()
    check(one.call("POST", "/auth/logout", token=token).status == 204, "logout on 1")
    print(f"cross: the logout took {(time.monotonic() - logging_out) * 1000:.0f} ms")
    for name, api in (("2", two), ("3", three)):
        r = api.call("GET", "/users/me", token=token)
        check(r.status == 401, f"the logged-out token on {name}, right after the 204: {r.status}")
    check(ws.wait_closed(10) == 4401, f"socket on 3 after logout on 1: {ws.closed}")
    ws.close()


def tus_across(one, two, three, token):
    data = os.urandom(7 << 20)
    r = one.call("POST", "/uploads", token=token, headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
        "Upload-Metadata": "filename " + base64.b64encode(b"across.bin").decode()})
    check(r.status == 201, f"tus create on 1: {r.status} {r.text()}")
    path, at = r.headers["location"], 0
    for name, api, size in (("2", two, 3 << 20), ("3", three, 4 << 20)):
        r = api.call("PATCH", path, raw=data[at:at + size], token=token, headers={
            "Tus-Resumable": "1.0.0", "Upload-Offset": str(at), "Content-Type": "application/offset+octet-stream"})
        check(r.status == 204, f"tus PATCH on {name}: {r.status} {r.text()}")
        at += size
    file_id = r.headers.get("bookspace-file-id")
    check(file_id, f"the upload completed on 3: {r.headers}")
    got = one.call("GET", f"/files/{file_id}/content", token=token)
    check(got.status == 200 and hashlib.sha256(got.body).digest() == hashlib.sha256(data).digest(),
          f"the file on 1: {got.status}")
    print("cross: a tus upload went from 1 to 2 to 3")


if __name__ == "__main__":
    try:
        cross(sys.argv[1:4])
    except Failure as e:
        print(f"cross FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    print("cross: ok")

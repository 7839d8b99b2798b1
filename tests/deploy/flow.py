#!/usr/bin/env python3
"""The end-to-end client flow of issue 14 against one base URL — one process, the A+B split
behind nginx, or three instances behind nginx — unchanged for all three:
register, login, refresh, document CRUD with If-Match, share, upload with a Range download,
search, an export job, a realtime subscription (the edit and the job's end arrive), logout.
    tests/deploy/flow.py http://127.0.0.1:PORT"""
import sys
import time

from client import Api, Failure, Ws, check, poll, unique


def flow(base):
    api = Api(base)
    ann_email, bob_email = unique("ann"), unique("bob")
    api.register(ann_email)
    bob = api.register(bob_email)
    login = api.call("POST", "/auth/login", {"email": ann_email, "password": "correct horse battery"})
    check(login.status == 200, f"login: {login.status} {login.text()}")
    refreshed = api.call("POST", "/auth/refresh", {"refresh_token": login.json()["refresh_token"]})
    check(refreshed.status == 200, f"refresh: {refreshed.status} {refreshed.text()}")
    token = refreshed.json()["access_token"]
    me = api.call("GET", "/users/me", token=token)
    check(me.status == 200 and me.json()["email"] == ann_email, f"users/me: {me.status} {me.text()}")

    ws = Ws(base)
    ok = ws.answer({"type": "auth", "token": token})
    check(ok and ok["type"] == "authenticated", f"realtime auth: {ok}")

    # Documents with optimistic concurrency.
    word = f"zephyr{int(time.time() * 1000) % 10**8}"
    created = api.call("POST", "/documents", {"title": "Deploy flow", "content": "first draft"}, token=token)
    check(created.status == 201 and created.headers.get("etag") == '"1"', f"create: {created.status}")
    doc = created.json()["id"]
    sub = ws.answer({"type": "subscribe", "topic": f"document:{doc}"})
    check(sub and sub["type"] == "subscribed", f"subscribe: {sub}")
    no_match = api.call("PATCH", f"/documents/{doc}", {"title": "x"}, token=token)
    check(no_match.status == 428, f"PATCH without If-Match: {no_match.status}")
    stale = api.call("PATCH", f"/documents/{doc}", {"title": "x"}, token=token, headers={"If-Match": '"7"'})
    check(stale.status == 412, f"stale If-Match: {stale.status}")
    etag = api.call("GET", f"/documents/{doc}", token=token).headers["etag"]
    patched = api.call("PATCH", f"/documents/{doc}", {"title": "Deploy flow, edited", "content": f"about {word}"},
                       token=token, headers={"If-Match": etag})
    check(patched.status == 200 and patched.json()["version"] == 2, f"PATCH: {patched.status} {patched.text()}")
    event = ws.next_of("event", 10, event="documents.updated")
    check(event and event["data"]["title"] == "Deploy flow, edited", f"realtime event: {event}")

    # Sharing.
    shared = api.call("PUT", f"/documents/{doc}/shares/{bob['user']['id']}", {"role": "viewer"}, token=token)
    check(shared.status == 200, f"share: {shared.status} {shared.text()}")
    as_bob = api.call("GET", f"/documents/{doc}", token=bob["access_token"])
    check(as_bob.status == 200 and as_bob.json()["role"] == "viewer", f"viewer reads: {as_bob.status}")

    # A file, streamed up, read back in part.
    content = bytes(range(256)) * 400
    up = api.call("POST", f"/files?name=data.bin&document_id={doc}", raw=content, token=token,
                  headers={"Content-Type": "application/octet-stream"})
    check(up.status == 201, f"upload: {up.status} {up.text()}")
    file_id = up.json()["id"]
    part = api.call("GET", f"/files/{file_id}/content", token=bob["access_token"], headers={"Range": "bytes=1000-1099"})
    check(part.status == 206 and part.body == content[1000:1100], f"Range download: {part.status}")

    # Search sees the edit.
    def found():
        r = api.call("GET", f"/search?q={word}", token=token)
        return r.status == 200 and any(i["id"] == doc for i in r.json()["items"])
    _, took = poll("search", found)
    print(f"flow: searchable {took * 1000:.0f} ms after the edit")

    # An export job; its end arrives on the socket.
    sub = ws.answer({"type": "subscribe", "topic": "jobs"})
    check(sub and sub["type"] == "subscribed", f"subscribe jobs: {sub}")
    job_id = api.export(token, [doc])
    done = api.finished_job(token, job_id)
    check(done["status"] == "succeeded", f"export job: {done}")
    ended = ws.next_of("event", 10, event="jobs.succeeded")
    check(ended and ended["data"]["id"] == job_id, f"jobs event: {ended}")
    archive = api.call("GET", f"/files/{done['result']['file_id']}/content", token=token)
    check(archive.status == 200 and archive.body[:2] == b"PK", f"export download: {archive.status}")

    # Logout ends the session everywhere, the socket included.
    out = api.call("POST", "/auth/logout", token=token)
    check(out.status == 204, f"logout: {out.status}")
    check(ws.wait_closed(10) == 4401, f"socket after logout: {ws.closed}")
    ws.close()


if __name__ == "__main__":
    try:
        flow(sys.argv[1])
    except Failure as e:
        print(f"flow FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    print("flow: ok")

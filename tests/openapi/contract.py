"""Drives every operation of /openapi.json through a Prism validating proxy (run by prism.sh):
a request meant to succeed that Prism flags — the request or the server's answer not as the
document says — fails the run, and so does an operation the flow never called.

    contract.py PRISM_URL SERVER_URL SPEC ADMIN_EMAIL ADMIN_PASSWORD
"""
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "deploy"))
from client import Api, Failure, check, poll, unique  # noqa: E402

prism_url, server_url, spec_path, admin_email, admin_password = sys.argv[1:6]
spec = json.load(open(spec_path))
api = Api(prism_url)
called = set()   # (METHOD, template) of every operation called
problems = []    # what Prism flagged on requests meant to succeed


def template_of(method, path):
    """The spec's path template a concrete path matches (literal segments win, as in the router)."""
    parts = path.split("?")[0].strip("/").split("/")
    best, best_literals = None, -1
    for template, item in spec["paths"].items():
        t = template.strip("/").split("/")
        if method.lower() not in item or len(t) != len(parts):
            continue
        if all(a.startswith("{") or a == b for a, b in zip(t, parts)):
            literals = sum(not a.startswith("{") for a in t)
            if literals > best_literals:
                best, best_literals = template, literals
    return best


def flagged(r):
    """Prism's verdict: its own problem (a request it refused, an answer it could not pass)
    or the violations it adds to an answer it forwarded."""
    found = []
    if r.headers.get("content-type", "").startswith("application/problem+json"):
        try:
            body = r.json()
        except ValueError:
            body = {}
        if "stoplight.io/prism" in str(body.get("type", "")):
            found.append(body.get("detail", "") + " " + json.dumps(body.get("validation", [])))
    if "sl-violations" in r.headers:
        for v in json.loads(r.headers["sl-violations"]):
            if v.get("severity") == "Error":
                found.append(json.dumps(v))
    return found


def call(method, path, body=None, token=None, headers=None, raw=None, expect=None):
    """One request through Prism. `expect`: the status (or statuses) meant; a 2xx/3xx one must
    pass Prism's validation."""
    full = path if path.startswith(("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
                                    "/.well-known/")) else "/api/v1" + path
    r = api.call(method, full, body=body, token=token, headers=headers, raw=raw)
    template = template_of(method, full)
    if template:
        called.add((method.upper(), template))
    wanted = expect if isinstance(expect, (tuple, list)) else (expect,) if expect else None
    issues = flagged(r)
    if wanted and min(wanted) >= 400 and r.status == 422 and issues:
        return r  # a request meant to be refused, refused by Prism already: the document forbids it too
    if wanted and r.status not in wanted:
        problems.append(f"{method} {full}: {r.status}, meant {wanted}: {r.text()} {issues}")
    elif issues and (not wanted or min(wanted) < 400):
        problems.append(f"{method} {full} ({r.status}): {issues}")
    return r


def main():
    # --- ops -------------------------------------------------------------------------------------
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/.well-known/jwks.json"):
        call("GET", path, expect=200)

    # --- auth ------------------------------------------------------------------------------------
    ann_email, bob_email = unique("ann"), unique("bob")
    ann = call("POST", "/auth/register", {"email": ann_email, "password": "correct horse battery",
                                          "display_name": "Ann"}, expect=201).json()
    bob = call("POST", "/auth/register", {"email": bob_email, "password": "correct horse battery"},
               expect=201).json()
    call("POST", "/auth/register", {"email": ann_email, "password": "correct horse battery"}, expect=409)
    at, bt = ann["access_token"], bob["access_token"]
    ann_id, bob_id = ann["user"]["id"], bob["user"]["id"]
    login = call("POST", "/auth/login", {"email": ann_email, "password": "correct horse battery"},
                 expect=200).json()
    call("POST", "/auth/login", {"email": ann_email, "password": "wrong horse battery"}, expect=401)
    call("POST", "/auth/refresh", {"refresh_token": login["refresh_token"]}, expect=200)
    call("POST", "/auth/refresh", {"refresh_token": "nope"}, expect=401)
    sessions = call("GET", "/auth/sessions", token=at, expect=200).json()["items"]
    other = next(s for s in sessions if not s["current"])
    call("DELETE", f"/auth/sessions/{other['id']}", token=at, expect=204)
    again = call("POST", "/auth/login", {"email": ann_email, "password": "correct horse battery"},
                 expect=200).json()
    call("POST", "/auth/logout", {"refresh_token": again["refresh_token"]}, token=again["access_token"],
         expect=204)
    call("POST", "/auth/password", {"current_password": "correct horse battery",
                                    "new_password": "correct horse battery 2"}, token=at, expect=204)
    call("POST", "/auth/password-reset", {"email": bob_email}, expect=202)
    call("POST", "/auth/password-reset/confirm", {"token": "not-a-token", "new_password": "x" * 12},
         expect=400)
    key = call("POST", "/auth/api-keys", {"name": "ci", "expires_in_days": 30}, token=at, expect=201).json()
    call("GET", "/auth/api-keys", token=at, expect=200)
    call("GET", "/users/me", token=key["key"], expect=200)
    call("DELETE", f"/auth/api-keys/{key['id']}", token=at, expect=204)

    # --- users -----------------------------------------------------------------------------------
    admin = call("POST", "/auth/login", {"email": admin_email, "password": admin_password}, expect=200).json()
    adm = admin["access_token"]
    call("GET", "/users/me", token=at, expect=200)
    call("PATCH", "/users/me", {"display_name": "Ann A."}, token=at, expect=200)
    call("PATCH", "/users/me", {"role": "admin"}, token=at, expect=400)
    call("GET", f"/users/{bob_id}", token=at, expect=200)
    call("GET", "/users?limit=5", token=adm, expect=200)
    call("GET", "/users", token=at, expect=403)
    call("PATCH", f"/users/{bob_id}", {"role": "member"}, token=adm, expect=200)

    # --- documents -------------------------------------------------------------------------------
    doc = call("POST", "/documents", {"title": "Plans", "content": "quarterly quokka plans", "tags": ["q3"]},
               token=at, headers={"Idempotency-Key": str(uuid.uuid4())}, expect=201)
    doc_id = doc.json()["id"]
    call("GET", "/documents?limit=10&scope=all&sort=title", token=at, expect=200)
    got = call("GET", f"/documents/{doc_id}", token=at, expect=200)
    call("GET", f"/documents/{doc_id}", token=at, headers={"If-None-Match": got.headers["etag"]}, expect=304)
    call("PATCH", f"/documents/{doc_id}", {"content": "quarterly quokka plans, revised"}, token=at,
         headers={"If-Match": '"1"'}, expect=200)
    call("PATCH", f"/documents/{doc_id}", {"title": "x"}, token=at, expect=428)
    call("PATCH", f"/documents/{doc_id}", {"title": "x"}, token=at, headers={"If-Match": '"1"'}, expect=412)
    call("GET", f"/documents/{doc_id}/versions", token=at, expect=200)
    call("GET", f"/documents/{doc_id}/versions/1", token=at, expect=200)
    call("POST", f"/documents/{doc_id}/versions/1/restore", token=at, headers={"If-Match": '"2"'}, expect=200)
    call("PUT", f"/documents/{doc_id}/shares/{bob_id}", {"role": "viewer"}, token=at, expect=200)
    call("GET", f"/documents/{doc_id}/shares", token=bt, expect=200)
    call("PATCH", f"/documents/{doc_id}", {"title": "mine"}, token=bt, headers={"If-Match": '"3"'}, expect=403)
    comment = call("POST", f"/documents/{doc_id}/comments", {"body": "Nice quokka."}, token=bt,
                   expect=201).json()
    call("GET", f"/documents/{doc_id}/comments", token=at, expect=200)
    call("DELETE", f"/documents/{doc_id}/comments/{comment['id']}", token=bt, expect=204)
    call("DELETE", f"/documents/{doc_id}/shares/{bob_id}", token=at, expect=204)

    # --- search ----------------------------------------------------------------------------------
    poll("search", lambda: call("GET", "/search?q=quokka&type=all", token=at, expect=200).json()["items"],
         timeout=10)
    call("GET", "/search", token=at, expect=400)

    # --- files -----------------------------------------------------------------------------------
    text = call("POST", f"/files?name=notes.txt&document_id={doc_id}", token=at,
                headers={"Content-Type": "text/plain", "Idempotency-Key": str(uuid.uuid4())},
                raw=b"hello quokka\n" * 10, expect=201).json()
    form = call("POST", "/files", token=at,
                headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
                raw=(b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pic.bin\"\r\n"
                     b"Content-Type: application/octet-stream\r\n\r\n\x00\x01\x02\x03\r\n--XyZ--\r\n"),
                expect=201).json()
    call("GET", "/files?limit=10", token=at, expect=200)
    call("GET", f"/files/{text['id']}", token=at, expect=200)
    content = call("GET", f"/files/{text['id']}/content", token=at, expect=200)
    call("HEAD", f"/files/{text['id']}/content", token=at, expect=200)
    call("GET", f"/files/{text['id']}/content", token=at, headers={"Range": "bytes=0-4"}, expect=206)
    call("GET", f"/files/{text['id']}/content", token=at, headers={"If-None-Match": content.headers["etag"]},
         expect=304)
    call("GET", f"/files/{text['id']}/content", token=at, headers={"Range": "bytes=9999-"}, expect=416)
    link = call("POST", f"/files/{text['id']}/links", {"expires_in": 60}, token=at, expect=201).json()
    call("GET", link["url"], expect=200)
    call("GET", "/files/usage", token=at, expect=200)
    call("PUT", f"/quotas/{bob_id}", {"quota_bytes": 1 << 20}, token=adm, expect=200)
    call("PUT", f"/quotas/{bob_id}", {"quota_bytes": 1}, token=at, expect=403)
    call("DELETE", f"/files/{form['id']}", token=at, expect=204)

    # --- tus -------------------------------------------------------------------------------------
    tus = {"Tus-Resumable": "1.0.0"}
    call("OPTIONS", "/uploads", headers=tus, expect=204)
    made = call("POST", "/uploads", token=at,
                headers={**tus, "Upload-Length": "10", "Upload-Metadata": "filename YS50eHQ="}, expect=201)
    location = made.headers["location"]
    call("HEAD", location, token=at, headers=tus, expect=200)
    call("PATCH", location, token=at, raw=b"01234",
         headers={**tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, expect=204)
    call("PATCH", location, token=at, raw=b"56789",
         headers={**tus, "Upload-Offset": "5", "Content-Type": "application/offset+octet-stream"}, expect=204)
    dropped = call("POST", "/uploads", token=at, headers={**tus, "Upload-Length": "3"}, expect=201)
    call("DELETE", dropped.headers["location"], token=at, headers=tus, expect=204)

    # --- jobs ------------------------------------------------------------------------------------
    job = call("POST", "/jobs", {"type": "documents.export", "payload": {"document_ids": [doc_id]}}, token=at,
               headers={"Idempotency-Key": str(uuid.uuid4())}, expect=202).json()
    call("GET", "/jobs?limit=5", token=at, expect=200)
    poll("export", lambda: call("GET", f"/jobs/{job['id']}", token=at, expect=200).json()["status"]
         in ("succeeded", "failed"), timeout=30, interval=0.1)
    call("GET", f"/jobs/{job['id']}/attempts", token=at, expect=200)
    call("POST", f"/jobs/{job['id']}/cancel", token=at, expect=409)
    later = call("POST", "/jobs", {"type": "documents.export", "run_at": "2099-01-01T00:00:00.000Z"}, token=at,
                 expect=202).json()
    call("POST", f"/jobs/{later['id']}/cancel", token=at, expect=200)
    call("POST", f"/jobs/{later['id']}/retry", token=at, expect=200)  # queued again, to run now
    call("POST", "/jobs", {"type": "search.reindex"}, token=at, expect=403)

    # --- realtime: the upgrade itself is tested directly (Prism does not proxy WebSockets) ------
    call("GET", "/realtime", expect=(400, 426))

    # --- trash -----------------------------------------------------------------------------------
    call("DELETE", f"/documents/{doc_id}", token=at, expect=204)
    call("GET", "/trash", token=at, expect=200)
    call("POST", f"/trash/{doc_id}/restore", token=at, expect=200)
    call("DELETE", f"/documents/{doc_id}", token=at, expect=204)
    call("DELETE", f"/trash/{doc_id}", token=at, expect=204)

    every = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    missed = sorted(every - called)
    for m, p in missed:
        problems.append(f"never called: {m} {p}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"prism: {len(problems)} problem(s) over {len(called)} of {len(every)} operations", file=sys.stderr)
        sys.exit(1)
    print(f"prism: {len(called)} of {len(every)} operations through the validating proxy, no violation")


try:
    main()
except Failure as e:
    print(f"prism: {e}", file=sys.stderr)
    if problems:
        print("\n".join(problems), file=sys.stderr)
    sys.exit(1)

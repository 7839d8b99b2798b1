#!/usr/bin/env python3
"""Checks of the split deployment (process A: auth, users, documents; process B: files, search,
jobs, realtime, with auth's and documents' stand-ins), after the client flow passed through nginx:
  - each process's /openapi.json lists its own modules' routes only, and no internal route;
  - internal routes are not reachable through nginx, and refuse a caller without the service key;
  - B verifies A's access tokens (JWKS) and API keys (A's internal route), and refuses them once
    A revoked them (through the shared event log): a logout's 204 on A means B refuses at once;
  - B's files module checks document access through documents' stand-in: a stranger is refused.
    tests/deploy/split.py PROXY_URL A_URL B_URL"""
import sys

from client import Api, Failure, check, poll, unique


def paths(api):
    r = api.call("GET", "/openapi.json")
    check(r.status == 200, f"openapi: {r.status}")
    return set(r.json()["paths"])


def split(proxy_url, a_url, b_url):
    proxy, a, b = Api(proxy_url), Api(a_url), Api(b_url)

    a_paths, b_paths = paths(a), paths(b)
    check("/api/v1/documents" in a_paths and "/api/v1/auth/login" in a_paths, "A lists its routes")
    check(not any(p.startswith(("/api/v1/files", "/api/v1/search", "/api/v1/jobs")) for p in a_paths),
          "A lists no route of B's modules")
    check("/api/v1/files" in b_paths and "/api/v1/search" in b_paths and "/api/v1/jobs" in b_paths,
          "B lists its routes")
    check(not any(p.startswith(("/api/v1/documents", "/api/v1/auth", "/api/v1/users")) for p in b_paths),
          "B lists no route of A's modules")
    check(not any(p.startswith("/internal/") for p in a_paths | b_paths), "no internal route is listed")

    internal = "/internal/documents/ids"
    check(proxy.call("GET", internal).status == 404, "internal routes are not reachable through nginx")
    check(a.call("GET", internal).status == 401, "an internal route without the service key")
    check(a.call("GET", internal, headers={"Authorization": "Bearer " + "x" * 64}).status == 401,
          "an internal route with a wrong service key")

    # Tokens issued by A work on B; a logout on A reaches B through the event log.
    ann = proxy.register(unique("ann"))
    token = ann["access_token"]
    check(b.call("GET", "/files/usage", token=token).status == 200, "A's token on B")
    check(b.call("GET", "/files/usage", token=token + "x").status == 401, "a forged token on B")
    out = a.call("POST", "/auth/logout", token=token)
    check(out.status == 204, f"logout on A: {out.status}")
    # B takes part in the logout's propagation (its stand-in heartbeats and acknowledges through
    # A's internal routes), so the 204 means B refuses the token already.
    check(b.call("GET", "/files/usage", token=token).status == 401, "the logged-out token on B, right after the 204")

    # API keys: B asks A who owns one, and forgets it when A revokes it.
    bob = proxy.register(unique("bob"))
    created = a.call("POST", "/auth/api-keys", {"name": "split"}, token=bob["access_token"])
    check(created.status == 201, f"api key: {created.status} {created.text()}")
    key = created.json()
    check(b.call("GET", "/files/usage", token=key["key"]).status == 200, "an API key on B")
    revoked = a.call("DELETE", f"/auth/api-keys/{key['id']}", token=bob["access_token"])
    check(revoked.status == 204, f"revoke the key: {revoked.status}")
    poll("the key's revocation reaching B", lambda: b.call("GET", "/files/usage", token=key["key"]).status == 401,
         timeout=5)

    # Document access from B goes through documents' stand-in (A's internal routes).
    doc = a.call("POST", "/documents", {"title": "split"}, token=bob["access_token"]).json()["id"]
    carl = proxy.register(unique("carl"))
    own = b.call("POST", f"/files?name=a.txt&document_id={doc}", raw=b"hello", token=bob["access_token"],
                 headers={"Content-Type": "text/plain"})
    check(own.status == 201, f"attach to own document on B: {own.status} {own.text()}")
    other = b.call("POST", f"/files?name=a.txt&document_id={doc}", raw=b"hello", token=carl["access_token"],
                   headers={"Content-Type": "text/plain"})
    check(other.status in (400, 403, 404) and "document" in other.text(), f"attach to a stranger's document on B: {other.status} {other.text()}")
    read = b.call("GET", f"/files/{own.json()['id']}", token=carl["access_token"])
    check(read.status == 404, f"a stranger reads the attachment on B: {read.status}")


if __name__ == "__main__":
    try:
        split(*sys.argv[1:4])
    except Failure as e:
        print(f"split FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    print("split: ok")

"""The CLI as a person at a terminal meets it (a pseudo-terminal, so isatty() is true):
`users create-admin` asks for the password twice without echoing it and says mismatches on
stderr; `bookspace users --help` and every command's --help answer; `search reindex` shows its
progress. Bounded waits, loopback only (no server).

    terminal.py BINARY
"""
import os
import pty
import select
import subprocess
import sys
import tempfile
import time

binary = os.path.realpath(sys.argv[1])
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail!r}"))
    if not ok:
        failures.append(name)


def on_terminal(args, answers, timeout=20):
    """Runs `binary args` on a pseudo-terminal; writes each answer once its prompt appeared."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(binary, [binary] + args)
    seen = b""
    deadline = time.monotonic() + timeout
    pending = list(answers)
    while time.monotonic() < deadline:
        if pending and pending[0][0].encode() in seen.split(b"\n")[-1] + seen[-200:]:
            prompt, answer = pending.pop(0)
            seen = seen.replace(prompt.encode(), prompt.encode() + b"<answered>", 1)
            os.write(fd, answer.encode() + b"\n")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


with tempfile.TemporaryDirectory() as work:
    os.chdir(work)  # no config/bookspace.jsonc here
    data = os.path.join(work, "var")
    secret = "a long and secret horse"
    code, out = on_terminal(["users", "create-admin", "--email", "root@example.com", "--data-dir", data],
                            [("Password for", secret), ("Again:", secret)])
    check("create-admin on a terminal succeeds", code == 0, out)
    check("it asks twice", "Password for" in out and "root@example.com (empty" in out and "Again:" in out, out)
    check("the password is never echoed", secret not in out, out)
    code, out = on_terminal(["users", "create-admin", "--email", "other@example.com", "--data-dir", data],
                            [("Password for", secret), ("Again:", secret + " typo")])
    check("a mismatch is refused (exit 2)", code == 2 and "differ" in out, out)

    piped = subprocess.run([binary, "users", "create-admin", "--email", "bad", "--data-dir", data],
                           input="x\n", capture_output=True, text=True, timeout=30)
    check("errors go to stderr", piped.returncode == 2 and "email" in piped.stderr and not piped.stdout,
          (piped.stdout, piped.stderr))
    piped = subprocess.run([binary, "users", "create-admin", "--email", "pipe@example.com", "--data-dir", data],
                           input=secret + "\n", capture_output=True, text=True, timeout=30)
    check("from a pipe, one line of stdin", piped.returncode == 0 and "created admin" in piped.stdout,
          (piped.stdout, piped.stderr))

    for args in (["users", "--help"], ["users", "create-admin", "--help"], ["search", "--help"],
                 ["search", "reindex", "--help"], ["jobs", "--help"], ["serve", "--help"], ["migrate", "--help"],
                 ["modules", "--help"], ["config", "--help"], ["version", "--help"], ["--help"]):
        r = subprocess.run([binary] + args, capture_output=True, text=True, timeout=30)
        check(f"bookspace {' '.join(args)}", r.returncode == 0 and len(r.stdout) > 20, (r.returncode, r.stderr))
    r = subprocess.run([binary, "users"], capture_output=True, text=True, timeout=30)
    check("bookspace users alone lists its commands (exit 2)", r.returncode == 2 and "create-admin" in r.stderr,
          r.stderr)

    code, out = on_terminal(["search", "reindex", "--data-dir", data], [])
    check("search reindex shows progress on a terminal", code == 0 and "reindexing:" in out and "reindexed" in out,
          out)

if failures:
    sys.exit(1)

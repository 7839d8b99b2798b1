"""Every path a compose file mounts into the BookSpace image, and every directory its environment
points BookSpace at, exists in the image and belongs to the image's user — a named volume takes
the ownership of the image's directory on first use, so a path the image does not make for
`bookspace` would be root's, and the server could not write there. Read from docker/Dockerfile's
final stage without a Docker engine: its USER, and the directories its RUN lines make and chown.

    check-compose-mounts.py REPO_ROOT
"""
import os
import re
import sys

import yaml

root = sys.argv[1]
dockerfile = open(os.path.join(root, "docker", "Dockerfile")).read()
final = dockerfile[dockerfile.rindex("\nFROM "):]
user = re.findall(r"^USER\s+(\S+)", final, re.M)[-1]
run = " ".join(re.findall(r"^RUN\s+((?:.*\\\n)*.*)$", final, re.M)).replace("\\\n", " ")
made = set()
for m in re.finditer(r"mkdir\s+-p\s+([^&;]+)", run):
    made.update(p for p in m.group(1).split() if p.startswith("/"))
owned = set()
for m in re.finditer(r"chown\s+(?:-R\s+)?(\S+?)(?::\S+)?\s+([^&;]+)", run):
    if m.group(1) == user:
        owned.update(p for p in m.group(2).split() if p.startswith("/"))
env_dirs = ("BOOKSPACE_DATA_DIR", "BOOKSPACE_FILES_STORAGE_DIR", "BOOKSPACE_MAIL_SPOOL_DIR")

problems, checked = [], 0
for name in sorted(os.listdir(os.path.join(root, "docker"))):
    if not (name.startswith("compose") and name.endswith(".yaml")):
        continue
    doc = yaml.safe_load(open(os.path.join(root, "docker", name)))
    for service, spec in (doc.get("services") or {}).items():
        build = spec.get("build")
        if not (isinstance(build, dict) and build.get("dockerfile", "").endswith("docker/Dockerfile")):
            continue  # not our image (postgres, nginx)
        paths = []
        for v in spec.get("volumes") or []:
            target = v.split(":")[1] if isinstance(v, str) else v.get("target")
            paths.append((target, "mounted"))
        env = spec.get("environment") or {}
        for key in env_dirs:
            if key in env:
                paths.append((str(env[key]), key))
        for path, why in paths:
            checked += 1
            if path not in made:
                problems.append(f"{name}: {service}: {path} ({why}) is not made by the Dockerfile")
            elif path not in owned:
                problems.append(f"{name}: {service}: {path} ({why}) is not chowned to {user} in the Dockerfile")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"compose mounts: {checked} paths, each made in the image and owned by {user}")

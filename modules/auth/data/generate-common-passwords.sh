#!/usr/bin/env bash
# Regenerates common-passwords.txt: the 10,000 most common passwords, most common first.
#
# Source: Debian 12's python3-zxcvbn package (4.4.28-3, MIT, (c) 2012-2013 Dropbox, Inc. and
# 2016 Daniel Wolf; upstream https://github.com/dwolfhub/zxcvbn-python). Its `passwords`
# frequency list is zxcvbn's, ranked from Mark Burnett's / Xato's corpus of 10 million leaked
# passwords. We keep the first 10,000 entries (all lower-case ASCII).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download python3-zxcvbn=4.4.28-3 >/dev/null
dpkg-deb -x python3-zxcvbn_*.deb root
PYTHONPATH=root/usr/lib/python3/dist-packages python3 - >"$here/common-passwords.txt" <<'PY'
from zxcvbn.frequency_lists import FREQUENCY_LISTS
for word in FREQUENCY_LISTS["passwords"][:10000]:
    print(word)
PY
wc -l "$here/common-passwords.txt"

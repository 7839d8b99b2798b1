"""A real SMTP server for the mail tests (Debian's python3-aiosmtpd), on loopback: STARTTLS
offered and required, with the certificate given; each message is written to OUT_DIR as
<n>.eml. Runs until killed.

    /usr/bin/python3 smtp_server.py PORT CERT KEY OUT_DIR
"""
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller

port, cert, key, out_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


class Keep:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Keep.count += 1
        tmp = os.path.join(out_dir, f".{Keep.count}.tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(out_dir, f"{Keep.count}.eml"))
        return "250 OK"


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(Keep(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
controller.start()
print("smtp: listening", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()

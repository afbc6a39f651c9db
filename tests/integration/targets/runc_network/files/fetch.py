"""GET a URL and print the body: waits up to WAIT seconds for the server to listen, never retries a read.

Usage: fetch.py URL [WAIT]. Exit 0 with the body, 1 with the error.
"""
import socket
import sys
import time
import urllib.error
import urllib.request

url = sys.argv[1]
deadline = time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 5)
while True:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            sys.stdout.write(response.read().decode())
        sys.exit(0)
    except (urllib.error.URLError, ConnectionError, socket.timeout) as error:
        reason = getattr(error, 'reason', error)
        # Only "nobody listens yet" is waited out: a server starting. A timeout is an answer.
        if isinstance(reason, ConnectionRefusedError) and time.monotonic() < deadline:
            time.sleep(0.1)
            continue
        sys.stderr.write('%s: %s\n' % (url, reason))
        sys.exit(1)

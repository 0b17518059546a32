"""`confab up` says it is ready only once the API answers its health check."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import threading

from tests.conftest import REPO

SERVER = """
import http.server, sys, time
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
time.sleep(1.0)  # a slow start, like the API loading its model
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health)
print("child listening", flush=True)
server.serve_forever()
"""

SUPERVISOR = """
import sys
from ops.stack import Child, run_stack
port = int(sys.argv[1])
child = Child("api", [sys.executable, "-c", {server!r}, str(port)], {{}}, port)
sys.exit(run_stack([child], None, f"http://127.0.0.1:{{port}}"))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_ready_line_comes_after_the_api_serves_and_ctrl_c_stops_it() -> None:
    code = textwrap.dedent(SUPERVISOR).format(server=SERVER)
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(free_port())],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    give_up = threading.Timer(30, process.kill)  # no ready line: stdout ends, the test fails
    give_up.start()
    try:
        for line in process.stdout:
            lines.append(line.strip())
            if line.startswith("Confab is ready"):
                break
    finally:
        give_up.cancel()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert lines[0] == "child listening"
    assert lines[1].startswith("Confab is ready: http://127.0.0.1:")

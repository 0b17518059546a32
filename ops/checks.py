"""Do the services Confab needs answer? Each check names the missing one and how to start it."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

import psycopg

HINTS = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "NATS": (
        "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- "
        "-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log"
    ),
}


def check_postgres(conninfo: str) -> str | None:
    try:
        with psycopg.connect(conninfo, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        return f"PostgreSQL does not answer ({str(exc).strip().splitlines()[0]})"
    return None


def check_nats(url: str) -> str | None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 4222
    try:
        with socket.create_connection((host, port), timeout=3) as sock:
            greeting = sock.recv(4096)
    except OSError as exc:
        return f"NATS does not answer at {host}:{port} ({exc})"
    if not greeting.startswith(b"INFO"):
        return f"something at {host}:{port} answers, but it is not NATS"
    if b'"jetstream":true' not in greeting.replace(b" ", b""):
        return f"NATS at {host}:{port} runs without JetStream (start it with -js)"
    return None


def missing_services(conninfo: str, nats_url: str) -> list[str]:
    problems = []
    for name, problem in (("PostgreSQL", check_postgres(conninfo)), ("NATS", check_nats(nats_url))):
        if problem:
            problems.append(f"{problem}\n    start it with: {HINTS[name]}")
    return problems

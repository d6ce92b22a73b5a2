# ruff: noqa: INP001, T201 - a script run by path (python benchmarks/serve_workers.py) that prints
"""Requests/s of ``disburse serve`` at 1 and at 2 worker processes, in one run.

For each backend (a temporary SQLite file; a throwaway schema in PostgreSQL), one store
and one clerk key; then, alternately (1, 2, 1, 2 workers: the machine is noisy), a real
``disburse serve --workers N`` on 127.0.0.1 and ``--clients`` threads, each with its own
keep-alive connection, for ``--seconds`` per load:

- writes: ``POST /v1/people`` (a new person each, one transaction each);
- reads: ``GET /v1/people/{id}`` of people written before (an aggregate read);
- ``GET /healthz`` (the HTTP stack alone).

It prints requests/s of each load at each worker count (the best of the two rounds) and
the ratio 2 workers / 1 worker.

Run: ``.venv/bin/python benchmarks/serve_workers.py [--store sqlite|postgres|both]
[--clients 16] [--seconds 5]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from itertools import count
from pathlib import Path

import psycopg

from disburse.domain.identity import check_digit
from disburse.persistence.keys import generate_secret

DISBURSE = str(Path(sys.executable).with_name("disburse"))
PG = os.environ.get("DISBURSE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
COUNTY = "220221"
_serial = count()
#: Answers other than 2xx, by load, over the whole run (there should be none).
FAILED: dict[str, int] = {}


def resident_id() -> str:
    """A new valid resident ID of the county (unique within the run)."""
    n = next(_serial)
    born = date(1960, 1, 1) + timedelta(days=n // 1000)
    first17 = f"{COUNTY}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + check_digit(first17)


def person() -> dict[str, object]:
    """The body of a new registration."""
    rid = resident_id()
    return {
        "resident_id": rid,
        "name": "王五",
        "home_region": COUNTY,
        "poverty_status": "lifted",
        "labour_capacity": "weak",
        "household_id": f"H-{rid[-6:]}",
        "bank_account": f"62220202{rid[-8:-1]}0",
    }


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def disburse(env: dict[str, str], cwd: str, *args: str) -> str:
    """Run the CLI; its standard output."""
    return subprocess.run(  # noqa: S603 - our own console script
        [DISBURSE, *args], env=env, cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def load(port: int, key: str, kind: str, args: argparse.Namespace) -> float:
    """Requests/s answered 2xx by ``clients`` threads for ``seconds``; others are counted."""
    clients, people = args.clients, args.people
    done = [0] * clients
    stop = time.monotonic() + args.seconds
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = index
        while time.monotonic() < stop:
            if kind == "write":
                connection.request("POST", "/v1/people", json.dumps(person()), headers)
            elif kind == "read":
                n += clients
                connection.request("GET", f"/v1/people/{people[n % len(people)]}", None, headers)
            else:
                connection.request("GET", "/healthz")
            try:
                response = connection.getresponse()
            except http.client.RemoteDisconnected:  # a kept-alive connection timed out
                FAILED["disconnected"] = FAILED.get("disconnected", 0) + 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            body = response.read()
            if response.status >= 300:  # noqa: PLR2004 - not a success
                FAILED[kind] = FAILED.get(kind, 0) + 1
            else:
                done[index] += 1
                if kind == "write" and len(people) < 5000:  # noqa: PLR2004 - enough to read
                    people.append(json.loads(body)["id"])
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def measure(
    env: dict[str, str], cwd: str, workers: int, args: argparse.Namespace
) -> dict[str, float]:
    """One server with ``workers`` processes under each load in turn."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own console script
        [DISBURSE, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        rates = {}
        for kind in ("write", "read", "healthz"):
            rates[kind] = load(port, args.key, kind, args)
        return rates
    finally:
        server.terminate()
        server.wait(timeout=30)


def bench(store: str, args: argparse.Namespace) -> None:
    """Both worker counts, twice, on one store of ``store``."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory() as cwd:
        url = f"sqlite:///{cwd}/ledger.db" if store == "sqlite" else f"{PG}?schema={schema}"
        if store == "postgres":
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
        clean = {k: v for k, v in os.environ.items() if not k.startswith("DISBURSE_")}
        env = clean | {"DISBURSE_DATABASE_URL": url, "DISBURSE_SECRET_KEY": generate_secret()}
        try:
            created = disburse(
                env, cwd, "clients", "create", "--name", "bench", "--role", "clerk",
                "--region", COUNTY, "--json",
            )  # fmt: skip
            args.key, args.people = json.loads(created)["key"], []
            best: dict[int, dict[str, float]] = {1: {}, 2: {}}
            for workers in (1, 2, 1, 2):
                for kind, rate in measure(env, cwd, workers, args).items():
                    best[workers][kind] = max(best[workers].get(kind, 0.0), rate)
        finally:
            if store == "postgres":
                with psycopg.connect(PG, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(f"{store}: {args.clients} clients, {args.seconds:g} s per load, best of 2 rounds")
    for kind in ("write", "read", "healthz"):
        one, two = best[1][kind], best[2][kind]
        print(f"  {kind:8} 1 worker {one:7.1f}/s   2 workers {two:7.1f}/s   ratio {two / one:.2f}")
    print(f"  answers other than 2xx: {FAILED or 'none'}")
    FAILED.clear()


def main() -> None:
    """Parse the options and run the chosen stores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    for store in ("sqlite", "postgres") if args.store == "both" else (args.store,):
        bench(store, args)


if __name__ == "__main__":
    main()

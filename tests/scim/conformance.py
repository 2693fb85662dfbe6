"""Runs the scim2-tester suite (PyPI) against a running cohort server's SCIM face.

Usage: conformance.py SERVER_URL ADMIN_TOKEN
Waits for the server, makes a SCIM token of tenant `default` with the admin token, runs every
check, prints each with its status and a summary, and exits 1 when any check is at ERROR or
CRITICAL, or when no check ran.
"""

import collections
import json
import sys
import time
import urllib.request

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def wait_for(server: str) -> None:
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{server}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"conformance: no server answered at {server}")


def scim_token(server: str, admin: str) -> str:
    req = urllib.request.Request(
        f"{server}/t/default/api/v1/tokens",
        data=json.dumps({"name": "scim2-tester", "scope": "scim"}).encode(),
        headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["secret"]


def main() -> int:
    server, admin = sys.argv[1].rstrip("/"), sys.argv[2]
    wait_for(server)
    token = scim_token(server, admin)
    http = httpx2.Client(
        base_url=f"{server}/t/default/scim/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    results = check_server(SyncSCIMClient(http))
    counts = collections.Counter(r.status.name for r in results)
    for r in results:
        where = f"[{r.resource_type}] " if r.resource_type else ""
        print(f"{r.status.name:10} {where}{r.title}: {r.reason or ''}")
    print("scim2-tester summary: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    bad = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    if not results or bad:
        print(f"scim2-tester: {len(bad)} checks at ERROR or CRITICAL", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

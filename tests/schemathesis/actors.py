"""Makes one user per role in the `default` tenant of a fresh cohort and prints `role token`
lines: the admin (the bootstrap token), a group-admin, an auditor and a plain user."""

import json
import sys
import urllib.request

base, admin = sys.argv[1], sys.argv[2]
api = f"{base}/t/default/api/v1"


def call(method, path, body=None, token=admin):
    req = urllib.request.Request(
        f"{api}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        return json.load(r)


roles = {r["name"]: r["id"] for r in call("GET", "/roles?limit=100")["items"]}
print("admin", admin)
for name, role in (("group-admin", "group-admin"), ("auditor", "auditor"), ("plain", None)):
    user = call("POST", "/users", {"email": f"{name}@schemathesis.test"})["id"]
    if role:
        call("POST", f"/users/{user}/roles", {"roleId": roles[role]})
    print(name, call("POST", "/tokens", {"name": "schemathesis", "userId": user})["secret"])

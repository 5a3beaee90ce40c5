"""Run one of packaging/mdm/fleet-*.sql in SQLite (osquery's SQL engine) against replicas of the
osquery/fleetd tables it reads, filled from this machine, and print its rows as one JSON array:

  parse_json(path, fullkey, parent, key, value)  Fleet's fleetd table: one row per top-level key
                                                 of FLEET_JSON, values as text, under the path
                                                 /var/lib/codex-warden/fleet.json
  processes(pid, name, cmdline)                  /proc (name: the Name: of /proc/PID/status)
  time(unix_time)                                now

Usage: python3 fleet_sql.py QUERY.sql FLEET_JSON [OVERRIDES_JSON]
(a missing FLEET_JSON leaves parse_json empty; OVERRIDES replace fields of the file, to fake an
old file). Used by tests/packaging/fleet-query.sh and tests/health_contract.rs. What this does
NOT show: that osquery's and fleetd's real tables return exactly these rows.
"""
import json
import os
import sqlite3
import sys
import time

query, path = sys.argv[1:3]
override = sys.argv[3] if len(sys.argv) > 3 else ""
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE parse_json (path TEXT, fullkey TEXT, parent TEXT, key TEXT, value TEXT)")
db.execute("CREATE TABLE processes (pid INTEGER, name TEXT, cmdline TEXT)")
db.execute("CREATE TABLE time (unix_time INTEGER)")
db.execute("INSERT INTO time VALUES (?)", (int(time.time()),))
if os.path.exists(path):
    fields = json.load(open(path))
    fields.update(json.loads(override or "{}"))

    def text(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        return "" if v is None else str(v)

    for k, v in fields.items():
        db.execute("INSERT INTO parse_json VALUES (?, ?, '', ?, ?)",
                   ("/var/lib/codex-warden/fleet.json", k, k, text(v)))
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        status = open(f"/proc/{pid}/status").read()
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    name = next(l.split(":", 1)[1].strip() for l in status.splitlines() if l.startswith("Name:"))
    # A zombie (an agent killed, not yet reaped) is not a running process to osquery either.
    state = next((l.split(":", 1)[1].strip() for l in status.splitlines() if l.startswith("State:")), "")
    if state.startswith("Z"):
        continue
    db.execute("INSERT INTO processes VALUES (?, ?, ?)", (int(pid), name, cmd.strip()))
rows = db.execute(open(query).read()).fetchall()
print(json.dumps(rows))

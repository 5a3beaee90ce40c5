-- Fleet policy "codex-warden healthy" (fleetd: needs Fleet's parse_json table).
-- Passes (returns a row) when fleet.json says `health` = "healthy" (the health contract of
-- docs/fleet.md, as the agent judged it when it wrote the file), the agent process it names is
-- still running, and it wrote the file in the last 15 minutes (it rewrites it after every scan,
-- every 5 minutes by default). Fails on every other machine, including one with no fleet.json
-- (agent never ran, not installed).
SELECT 1 FROM processes
WHERE name = 'codex-warden'
  AND pid = (SELECT CAST(value AS INTEGER) FROM parse_json
             WHERE path = '/var/lib/codex-warden/fleet.json' AND key = 'agent_pid')
  AND (SELECT value FROM parse_json
       WHERE path = '/var/lib/codex-warden/fleet.json' AND key = 'health') = 'healthy'
  AND (SELECT CAST(value AS INTEGER) FROM parse_json
       WHERE path = '/var/lib/codex-warden/fleet.json' AND key = 'written_at_unix')
      > (SELECT unix_time FROM time) - 900;

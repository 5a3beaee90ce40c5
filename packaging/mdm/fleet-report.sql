-- Fleet query "codex-warden attention" (fleetd: needs Fleet's parse_json table).
-- One row on a machine that is not healthy, none on a healthy one: run it as a live query on
-- all hosts, or schedule it and alert on any result. `reason` says why: the agent is gone or
-- stuck (what only a reader can see), else the agent's own `health: health_reasons` (the
-- health contract of docs/fleet.md: "unhealthy: policy-weakened", "needs-attention:
-- violations-24h,terminated-24h", ...).
WITH f AS (
  SELECT key, value FROM parse_json WHERE path = '/var/lib/codex-warden/fleet.json'
), s AS (
  SELECT
    (SELECT value FROM f WHERE key = 'health') AS health,
    (SELECT value FROM f WHERE key = 'health_reasons') AS health_reasons,
    (SELECT value FROM f WHERE key = 'policy_state') AS policy_state,
    (SELECT value FROM f WHERE key = 'mode') AS mode,
    (SELECT value FROM f WHERE key = 'revision') AS revision,
    CAST((SELECT value FROM f WHERE key = 'homes') AS INTEGER) AS homes,
    CAST((SELECT value FROM f WHERE key = 'homes_with_violations') AS INTEGER) AS homes_with_violations,
    CAST((SELECT value FROM f WHERE key = 'violations_24h') AS INTEGER) AS violations_24h,
    CAST((SELECT value FROM f WHERE key = 'quarantined_24h') AS INTEGER) AS quarantined_24h,
    CAST((SELECT value FROM f WHERE key = 'terminated_24h') AS INTEGER) AS terminated_24h,
    (SELECT unix_time FROM time)
      - CAST((SELECT value FROM f WHERE key = 'written_at_unix') AS INTEGER) AS file_age_s,
    EXISTS (SELECT 1 FROM processes WHERE name = 'codex-warden'
            AND pid = CAST((SELECT value FROM f WHERE key = 'agent_pid') AS INTEGER)) AS agent_running
)
SELECT
  CASE
    WHEN health IS NULL THEN 'no health in fleet.json: agent not installed, never ran, or older than the health contract'
    WHEN NOT agent_running THEN 'unhealthy: agent-not-running'
    WHEN file_age_s > 900 THEN 'unhealthy: agent stuck, fleet.json not rewritten for ' || file_age_s || ' s'
    ELSE health || ': ' || health_reasons
  END AS reason,
  health, health_reasons, agent_running, policy_state, mode, revision, homes,
  homes_with_violations, violations_24h, quarantined_24h, terminated_24h, file_age_s
FROM s
WHERE health IS NULL OR NOT agent_running OR file_age_s > 900 OR health != 'healthy';

-- Fleet query "codex-warden attention" (fleetd: needs Fleet's parse_json table).
-- One row on a machine that needs attention, none on a healthy one: run it as a live query on
-- all hosts, or schedule it and alert on any result. `reason` says why.
WITH f AS (
  SELECT key, value FROM parse_json WHERE path = '/var/lib/codex-warden/fleet.json'
), s AS (
  SELECT
    (SELECT value FROM f WHERE key = 'policy_state') AS policy_state,
    (SELECT value FROM f WHERE key = 'revision') AS revision,
    CAST((SELECT value FROM f WHERE key = 'homes') AS INTEGER) AS homes,
    CAST((SELECT value FROM f WHERE key = 'homes_with_violations') AS INTEGER) AS homes_with_violations,
    CAST((SELECT value FROM f WHERE key = 'violations_24h') AS INTEGER) AS violations_24h,
    (SELECT unix_time FROM time)
      - CAST((SELECT value FROM f WHERE key = 'written_at_unix') AS INTEGER) AS file_age_s,
    EXISTS (SELECT 1 FROM processes WHERE name = 'codex-warden'
            AND pid = CAST((SELECT value FROM f WHERE key = 'agent_pid') AS INTEGER)) AS agent_running
)
SELECT
  CASE
    WHEN policy_state IS NULL THEN 'no fleet.json: agent not installed or never ran'
    WHEN NOT agent_running THEN 'agent not running'
    WHEN file_age_s > 900 THEN 'agent stuck: fleet.json not rewritten for ' || file_age_s || ' s'
    WHEN policy_state != 'active' THEN 'no valid admin policy: ' || policy_state
    ELSE 'violations in the last 24 h'
  END AS reason,
  agent_running, policy_state, revision, homes, homes_with_violations, violations_24h, file_age_s
FROM s
WHERE policy_state IS NULL OR NOT agent_running OR file_age_s > 900
   OR policy_state != 'active' OR violations_24h > 0;

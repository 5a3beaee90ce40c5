#!/bin/bash
# usage: strace1.sh BIN OUT   — one violation on a 1-home scratch machine, strace -f -tt of the agent
BIN=$1; OUT=$2
R=$(mktemp -d /tmp/cw-strace.XXXX); chmod 755 $R
mkdir -p $R/policy.d $R/home/u0/.codex
chown -R 200000:200000 $R/home/u0
printf '[policy]\nname = "bench"\nrevision = "b1"\nmode = "enforce"\n[login]\nallowed_methods = ["chatgpt"]\n[scope]\nmin_uid = 1000\n' > $R/policy.d/10-bench.toml
echo "u0:x:200000:200000::$R/home/u0:/bin/sh" > $R/passwd
export CODEX_WARDEN_POLICY_DIR=$R/policy.d CODEX_WARDEN_STATE_DIR=$R/state CODEX_WARDEN_AUDIT_LOG=$R/audit.jsonl CODEX_WARDEN_PASSWD_FILE=$R/passwd CODEX_WARDEN_MANAGED_PREFS=$R/none.plist CODEX_WARDEN_CODEX_REQUIREMENTS=$R/etc-codex/requirements.toml CODEX_WARDEN_LOG=warn
strace -f -tt -o $OUT $BIN run 2>/dev/null &
SP=$!
while [ ! -e $R/state/status.json ]; do sleep 0.05; done; sleep 1.5
echo MARK > $R/mark   # not watched; just a timestamp
python3 -c "
import os,time
p='$R/home/u0/.codex/auth.json'
fd=os.open(p,os.O_WRONLY|os.O_CREAT|os.O_TRUNC,0o600); os.write(fd,b'{\"auth_mode\":\"apikey\",\"OPENAI_API_KEY\":\"sk-proj-bench-0123456789abcdefghij\"}'); os.close(fd)
"
sleep 1.5
kill -TERM $(pgrep -P $SP) 2>/dev/null; sleep 0.5; kill $SP 2>/dev/null; wait
echo $R

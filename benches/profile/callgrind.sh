#!/bin/bash
# usage: cg.sh BIN N OUT — callgrind of the agent on a 1-home machine handling N violations
BIN=$1; N=$2; OUT=$3
R=$(mktemp -d /tmp/cw-cg.XXXX); chmod 755 $R
mkdir -p $R/policy.d $R/home/u0/.codex; chown -R 200000:200000 $R/home/u0
printf '[policy]\nname = "bench"\nrevision = "b1"\nmode = "enforce"\n[login]\nallowed_methods = ["chatgpt"]\n[scope]\nmin_uid = 1000\n' > $R/policy.d/10-bench.toml
echo "u0:x:200000:200000::$R/home/u0:/bin/sh" > $R/passwd
export CODEX_WARDEN_POLICY_DIR=$R/policy.d CODEX_WARDEN_STATE_DIR=$R/state CODEX_WARDEN_AUDIT_LOG=$R/audit.jsonl CODEX_WARDEN_PASSWD_FILE=$R/passwd CODEX_WARDEN_MANAGED_PREFS=$R/none.plist CODEX_WARDEN_CODEX_REQUIREMENTS=$R/etc-codex/requirements.toml CODEX_WARDEN_LOG=warn
nice -n 19 valgrind --tool=callgrind --callgrind-out-file=$OUT $BIN run 2>$R/vg.log &
VP=$!
while [ ! -e $R/state/status.json ]; do sleep 0.1; done; sleep 3
for i in $(seq 1 $N); do
python3 -c "
import os
p='$R/home/u0/.codex/auth.json'
fd=os.open(p,os.O_WRONLY|os.O_CREAT|os.O_TRUNC,0o600); os.write(fd,b'{\"auth_mode\":\"apikey\",\"OPENAI_API_KEY\":\"sk-proj-bench-$i-0123456789abcdefghij\"}'); os.close(fd)
"
while [ -e $R/home/u0/.codex/auth.json ]; do sleep 0.02; done
sleep 0.3
done
sleep 2
kill -TERM $VP; wait $VP
grep -c quarantined $R/audit.jsonl
grep "^summary:" $OUT || grep "Collected" $R/vg.log

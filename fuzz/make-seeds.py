#!/usr/bin/env python3
"""Write the seed corpora under fuzz/corpus/ from the examples the tests already use.

auth_json:   the auth.json shapes of src/observe/auth.rs tests and tests/support (built here the
             same way: JWTs with the claims Codex reads, padded and unpadded).
config_toml: the TOML string literals of src/observe/config.rs tests.
policy_*:    policies/*.toml, the design example and every TOML snippet of
             src/policy/load_tests.rs (with the test's HEAD prepended where the test does).
jwt_claims:  structured (arbitrary) input: no hand-written seeds; see docs/fuzzing.md.

Run from the repository root: python3 fuzz/make-seeds.py. Rewrites the corpus directories.
"""
import base64
import glob
import hashlib
import json
import os
import re
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def b64(data, pad=False):
    s = base64.urlsafe_b64encode(data).decode()
    return s if pad else s.rstrip("=")


def jwt(payload, pad=False):
    header = b64(b'{"alg":"RS256","typ":"JWT"}', pad)
    return f"{header}.{b64(json.dumps(payload).encode(), pad)}.c2ln"


AUTH = "https://api.openai.com/auth"
PROFILE = "https://api.openai.com/profile"


def chatgpt_payload(ws, plan, email):
    return {"email": email, "exp": 1900000000, AUTH: {
        "chatgpt_account_id": ws, "chatgpt_plan_type": plan, "chatgpt_user_id": "user-1",
        "organization_id": "org-1", "project_id": "proj-1"}}


def auth_seeds():
    p = chatgpt_payload("ws-123", "business", "a@example.com")
    full = {"auth_mode": "chatgpt", "OPENAI_API_KEY": None,
            "tokens": {"id_token": jwt(p), "access_token": jwt(p), "refresh_token": "rt_x",
                       "account_id": "ws-123"},
            "last_refresh": "2026-11-25T00:00:00Z"}
    files = [full]
    legacy = dict(full)
    del legacy["auth_mode"]
    files.append(legacy)
    files.append(dict(legacy, OPENAI_API_KEY="sk-proj-abc"))
    files.append(dict(full, OPENAI_API_KEY="sk-proj-exchanged"))
    for key in ["sk-proj-abc", "sk-svcacct-abc", "sk-admin-abc", "sk-abc", "or-router-abc", ""]:
        files.append({"auth_mode": "apikey", "OPENAI_API_KEY": key, "tokens": None,
                      "last_refresh": None})
    files.append({"auth_mode": "apikey"})
    files.append({"OPENAI_API_KEY": "sk-proj-SECRETSECRETSECRETSECRET"})
    files.append({"tokens": {"id_token": jwt({PROFILE: {"email": "b@corp.example"},
                                              AUTH: {"chatgpt_account_id": "ws-1",
                                                     "user_id": "user-legacy"}})}})
    files.append({"tokens": {"id_token": jwt(chatgpt_payload("ws-pad", "Education",
                                                             "ab@example.com"), pad=True)}})
    files.append({"auth_mode": "chatgpt", "tokens": {"id_token": "not-a-jwt", "access_token": 42,
                                                    "account_id": "ws-acct"}})
    files.append({"auth_mode": None, "OPENAI_API_KEY": None, "tokens": {
        "id_token": jwt({"email": None, "exp": None, AUTH: {"chatgpt_account_id": None}}),
        "access_token": None, "refresh_token": None, "account_id": None},
        "last_refresh": None, "agent_identity": None})
    files.append({"auth_mode": "agentIdentity", "OPENAI_API_KEY": None, "agent_identity": {
        "account_id": "ws-agent", "chatgpt_user_id": "user-a", "email": "bot@corp.example",
        "plan_type": "Enterprise", "private_key": "SECRETKEY"}})
    files.append({"auth_mode": "agentIdentity", "agent_identity": jwt(
        {"account_id": "ws-top", "plan_type": "Pro", "user_id": "u-top", "exp": 5})})
    files.append({"auth_mode": "personalAccessToken", "OPENAI_API_KEY": None,
                  "personal_access_token": "at-SECRET"})
    files.append({"auth_mode": "bedrockApiKey", "bedrock_api_key": {"api_key": "brk-SECRET"}})
    files.append({"auth_mode": "headers", "headers": {"Authorization": "Bearer SECRET"}})
    files.append({"auth_mode": "quantumLogin", "OPENAI_API_KEY": "sk-x"})
    for f in files:
        write("auth_json", json.dumps(f, indent=2))
    write("auth_json", json.dumps(full))
    write("auth_json", json.dumps(full, indent=2)[:100])  # a write in progress
    for raw in [b"", b" \n\t ", b"[]", b"null", b'"sk-proj-x"', b"\xff\xfe{}",
                b'{"a": sk-proj-SECRET}', b'{"auth_mode": 1}', b'{"tokens": "x"}']:
        write("auth_json", raw)


def rust_strings(source):
    """The normal (non-raw) string literals of Rust source, unescaped, and the raw ones."""
    out = []
    for m in re.finditer(r'r#"(.*?)"#', source, re.S):
        out.append(m.group(1))
    source = re.sub(r'r#".*?"#', "", source, flags=re.S)
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', source, re.S):
        s = re.sub(r"\\\n\s*", "", m.group(1))
        s = (s.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")
             .replace('\\"', '"').replace("\\\\", "\\"))
        out.append(s)
    return out


def config_seeds():
    with open(os.path.join(ROOT, "src/observe/config.rs")) as f:
        source = f.read()
    tests = source[source.index("#[cfg(test)]"):]
    for s in rust_strings(tests):
        if "=" in s or "[" in s:
            write("config_toml", s)
    write("config_toml", 'openai_base_url = "user:SECRET@host.example/v1"\n')


def policy_seeds():
    with open(os.path.join(ROOT, "src/policy/load_tests.rs")) as f:
        source = f.read()
    head = '[policy]\nname = "corp"\nrevision = "1"\nmode = "enforce"\n'
    exception_ok = ('[[exception]]\nusers = ["ci-bot"]\nallowed_methods = ["api-key"]\n'
                    'reason = "CI"\nexpires = 2099-12-31T00:00:00Z\n')
    texts = [p for p in glob.glob(os.path.join(ROOT, "policies", "*.toml"))]
    texts = [open(p).read() for p in sorted(texts)]
    for s in rust_strings(source):
        if "=" not in s and "[" not in s:
            continue
        s = s.replace("{HEAD}", head).replace("{EXCEPTION_OK}", exception_ok)
        if "{" in s and "}" in s and re.search(r"\{[a-z_]+\}", s):
            continue  # a format string with arguments this script cannot fill in
        texts.append(s if s.lstrip().startswith("[policy]") else head + s)
    for t in texts:
        write("policy_sources", t)
        write("policy_file", t)
    write("policy_file", head.encode() + b'[enforce]\nmessage = "caf\xe9"\n')  # Latin-1
    write("policy_file", b"\xef\xbb\xbf" + head.encode())  # a byte-order mark


if __name__ == "__main__":
    for target in ["auth_json", "config_toml", "policy_sources", "policy_file"]:
        shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)
    auth_seeds()
    config_seeds()
    policy_seeds()
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        print(target, len(files), "files")

# shellcheck shell=bash
# tests/e2e/sign-in.sh: the aliyun CLI's sign-ins (CloudSSO, OAuth in ~/.aliyun/config.json) with no
# AccessKey anywhere, through real clients.
# Sourced by tests/e2e/run.sh (in this order: lib, setup, clients, docker, skopeo-podman-buildah,
# oci, identities, sign-in); uses its variables and functions and defines the ones later parts use.

# ---------------------------------------------------------------------------------------------
# A second fake API serves the CloudSSO portal and the OAuth service (CN client); it mints the
# registry password of $R1 only for the two sign-in principals (anyone else gets a wrong one).
# Its own shim records every helper run in RUNS/: the action and exit status, stdout, stderr.
section "sign-ins from ~/.aliyun/config.json: CloudSSO, OAuth (no AccessKey anywhere)"
sdir=$tmp/signin
mkdir -p "$sdir/bin"
sso_acct=1234567890123456 sso_ac=ac-e2e0123456789 sso_tok=$(openssl rand -hex 16)
oauth_client=4038181954557748008 rt0=e2e-refresh-$(openssl rand -hex 8)
: >"$sdir/fake.out"
"$fake_bin" --listen 127.0.0.1:0 --registry-user e2e-nobody --registry-password "$(openssl rand -hex 16)" \
  --instance e2e=cri-e2etest --sso-token "$sso_tok=$sso_acct/$sso_ac" --oauth "CN:$rt0" \
  --password "sso:$sso_acct/$sso_ac=$reg_user:$reg_pass" --password "oauth:$oauth_client=$reg_user:$reg_pass" \
  >"$sdir/fake.out" 2>"$sdir/fake.err" &
pids+=($!)
wait_for 100 grep -q '^listening on ' "$sdir/fake.out" || true
sfake=$(sed -n 's/^listening on //p' "$sdir/fake.out" | head -n 1)
[ -n "$sfake" ] || fatal "the sign-in fake API did not start: $(tail -n 3 "$sdir/fake.err")"
sstat() { fake_url=$sfake stat_of "$1"; } # ACTION -> calls so far at the sign-in fake
cat >"$sdir/bin/docker-credential-acr-helper" <<EOF
#!/usr/bin/env bash
n=\$(mktemp "\$RUNS/run.XXXXXX")
"$helper" "\$@" >"\$n.out" 2>"\$n.err"
rc=\$?
echo "\$1 rc=\$rc" >"\$n"
cat "\$n.out"
exit \$rc
EOF
chmod 755 "$sdir/bin/docker-credential-acr-helper"
# senv RUNS HOME COMMAND...: cenv's ACR setup (credHelpers $R1, cache dir number $cache_n) without
# the AccessKey, HOME=HOME, both sign-in services at the second fake, helper runs recorded in RUNS.
senv() {
  local runs=$1 home=$2
  shift 2
  mkdir -p "$runs"
  cenv acr helper env -u ALIBABA_CLOUD_ACCESS_KEY_ID -u ALIBABA_CLOUD_ACCESS_KEY_SECRET RUNS="$runs" HOME="$home" \
    PATH="$sdir/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT="$sfake" DOCKER_CREDENTIAL_ACR_HELPER_OAUTH_ENDPOINT="$sfake" "$@"
}
runs_of() { cat "$1"/run.?????? 2>/dev/null; }   # RUNS -> one "ACTION rc=N" per run
stderr_of() { cat "$1"/run.*.err 2>/dev/null; } # RUNS -> all the helper's stderr
sso_home() { # HOME EXPIRE(Unix seconds): a CloudSSO profile, current, portal at the fake
  mkdir -p "$1/.aliyun"
  cat >"$1/.aliyun/config.json" <<EOF
{
  "current": "sso",
  "profiles": [
    {
      "name": "sso",
      "mode": "CloudSSO",
      "cloud_sso_sign_in_url": "$sfake/device/login",
      "cloud_sso_account_id": "$sso_acct",
      "cloud_sso_access_config": "$sso_ac",
      "access_token": "$sso_tok",
      "cloud_sso_access_token_expire": $2,
      "region_id": "cn-hangzhou"
    }
  ],
  "meta_path": ""
}
EOF
}
if [ -n "$docker_ok" ]; then
  pull=(docker pull "$R1/e2e/tiny:1") what="docker pull"
else
  pull=("${skopeo_base[@]}" inspect --authfile "$tmp/cfg/helper/config.json" --cert-dir "$tmp/certs" "docker://$R1/e2e/tiny:1")
  what="skopeo inspect"
fi
redact() { sed -e "s/$reg_pass/<password>/g; s/$sso_tok/<sso token>/g; s/^/    | /"; }

# 1. CloudSSO, signed in for another hour: one call to the portal, the pull works.
sso_home "$sdir/home-sso" "$(($(date +%s) + 3600))"
cc0=$(sstat cloud-credentials)
cache_n=$((cache_n + 1))
run senv "$sdir/sso" "$sdir/home-sso" "${pull[@]}"
cc=$(($(sstat cloud-credentials) - cc0))
ngets=$(runs_of "$sdir/sso" | grep -c -x 'get rc=0' || true) # no grep -q in a pipe: pipefail
if [ "$rc" = 0 ] && [ "$cc" = 1 ] && [ "$ngets" -ge 1 ] && [ -z "$(stderr_of "$sdir/sso")" ]; then
  ok "CloudSSO profile: $what $R1/e2e/tiny:1 with the portal's STS credentials (1 cloud-credentials call, helper stderr empty)"
else
  bad "CloudSSO profile: $what exit $rc, $cc cloud-credentials calls (want 1), helper runs: $(runs_of "$sdir/sso" | tr '\n' ';')"
  { tail -n 15 "$log"; stderr_of "$sdir/sso"; } | redact
fi

# 2. CloudSSO, sign-in expired 10 minutes ago: the client fails, the helper names the command to
# sign in again and calls nothing.
sso_home "$sdir/home-sso-old" "$(($(date +%s) - 600))"
total0=$(sstat total)
cache_n=$((cache_n + 1))
run senv "$sdir/sso-old" "$sdir/home-sso-old" "${pull[@]}"
calls=$(($(sstat total) - total0))
said=$(stderr_of "$sdir/sso-old" | grep -F 'CloudSSO sign-in expired' | grep -F 'aliyun configure --profile sso --mode CloudSSO' || true)
if [ "$rc" != 0 ] && [ "$calls" = 0 ] && [ -n "$said" ]; then
  ok "CloudSSO sign-in expired: $what fails, the helper says: ${said#*: the }; no API call"
else
  bad "CloudSSO sign-in expired: $what exit $rc, $calls API calls (want 0), helper stderr below"
  stderr_of "$sdir/sso-old" | redact
fi

# 3. OAuth, access token with 5 minutes left (a refresh is due): 4 skopeo at once refresh once;
# config.json gets the rotated tokens, keeps the keys planted here and its mode 0600.
oh=$sdir/home-oauth
mkdir -p "$oh/.aliyun"
cat >"$oh/.aliyun/config.json" <<EOF
{
  "current": "web",
  "profiles": [
    {
      "name": "web",
      "mode": "OAuth",
      "x_e2e_planted": {"kept": [1, "two"]},
      "oauth_site_type": "CN",
      "oauth_refresh_token": "$rt0",
      "oauth_access_token": "e2e-access-about-to-expire",
      "oauth_access_token_expire": $(($(date +%s) + 300)),
      "region_id": "cn-hangzhou"
    }
  ],
  "meta_path": "",
  "x_e2e_top": 7
}
EOF
chmod 600 "$oh/.aliyun/config.json"
tok0=$(sstat token) ex0=$(sstat exchange)
cache_n=$((cache_n + 1))
par=() nfail=0
for i in 1 2 3 4; do
  senv "$sdir/oauth" "$oh" "${skopeo_base[@]}" inspect --authfile "$tmp/cfg/helper/config.json" --cert-dir "$tmp/certs" \
    "docker://$R1/e2e/tiny:1" >"$tmp/logs/oauth-$i.log" 2>&1 &
  par+=($!)
done
for p in "${par[@]}"; do wait "$p" || nfail=$((nfail + 1)); done
tok=$(($(sstat token) - tok0)) ex=$(($(sstat exchange) - ex0))
ngets=$(runs_of "$sdir/oauth" | grep -c -x 'get rc=0' || true)
want="{\"ServerURL\":\"$R1\",\"Username\":\"$reg_user\",\"Secret\":\"$reg_pass\"}"
odd_out=$(for f in "$sdir/oauth"/run.*.out; do [ "$(cat "$f")" = "$want" ] || echo "$f"; done)
if [ "$nfail" = 0 ] && [ "$tok" = 1 ] && [ "$ngets" -ge 4 ] && [ -z "$odd_out" ] && [ -z "$(stderr_of "$sdir/oauth")" ]; then
  ok "OAuth profile: 4 parallel skopeo inspect succeed, $ngets helper gets, ONE token refresh ($ex exchange); each stdout is exactly the answer, stderr empty"
else
  bad "OAuth profile: $nfail of 4 skopeo failed, $tok token calls (want 1), $ex exchange, $ngets gets ok; odd stdout: ${odd_out:-none}"
  { tail -n 5 "$tmp/logs/oauth-1.log"; stderr_of "$sdir/oauth"; } | redact
fi
# The file: rotated refresh token, planted keys kept (in place), mode 0600.
rt1=$(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
p = c["profiles"][0]
assert c["x_e2e_top"] == 7 and list(c)[-1] == "x_e2e_top", "top-level key"
assert p["x_e2e_planted"] == {"kept": [1, "two"]} and list(p)[2] == "x_e2e_planted", "profile key"
assert p["oauth_access_token_expire"] > int(sys.argv[2]) and p["sts_token"], "new tokens"
print(p["oauth_refresh_token"])' "$oh/.aliyun/config.json" "$(($(date +%s) + 1200))" 2>"$sdir/py.err" || true)
mode=$(stat -c %a "$oh/.aliyun/config.json")
token_status() { # REFRESH_TOKEN -> HTTP status of a refresh with it at the fake (200 rotates it)
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$sfake/v1/token" --data-urlencode grant_type=refresh_token \
    --data-urlencode "refresh_token=$1" --data-urlencode "client_id=$oauth_client" \
    --data-urlencode "Timestamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)" || true
}
old_st=$(token_status "$rt0")
if [ -n "$rt1" ] && [ "$rt1" != "$rt0" ] && [ "$mode" = 600 ] && [ "$old_st" = 400 ] && [ "$(token_status "$rt1")" = 200 ]; then
  ok "OAuth write-back: config.json holds the fake's current refresh token (a refresh with it works, the old one gets 400), new access token and STS fields, planted keys kept in place, mode $mode"
else
  bad "OAuth write-back: mode $mode, old refresh token -> $old_st (want 400), rotated: $([ -n "$rt1" ] && [ "$rt1" != "$rt0" ] && echo yes || echo no) $(tail -n 1 "$sdir/py.err")"
fi

#!/usr/bin/env bash
# Prepares a real HashiCorp Vault for refund-broker with the vault CLI.
#
#   export VAULT_ADDR=https://vault.example:8200 VAULT_TOKEN=<an operator token>
#   vault-config/setup.sh
#
# Idempotent: mounts, keys and the role are created when missing and updated otherwise.
# Prints the broker's role id and a response-wrapped secret id (unwrap it once, on the broker's
# host: see vault-config/README.md). Override the names with the variables below; the policies
# are rewritten to match.
set -euo pipefail

KV_MOUNT="${KV_MOUNT:-refund-broker}"
TRANSIT_MOUNT="${TRANSIT_MOUNT:-transit}"
TRANSIT_KEY="${TRANSIT_KEY:-refund-broker-audit}"
APPROLE_MOUNT="${APPROLE_MOUNT:-approle}"
ROLE="${ROLE:-refund-broker}"
TOKEN_TTL="${TOKEN_TTL:-20m}"
TOKEN_MAX_TTL="${TOKEN_MAX_TTL:-2h}"
SECRET_ID_TTL="${SECRET_ID_TTL:-720h}"
SECRET_ID_CIDRS="${SECRET_ID_CIDRS:-}"
WRAP_TTL="${WRAP_TTL:-10m}"

here="$(cd "$(dirname "$0")" && pwd)"
command -v vault >/dev/null || { echo "setup.sh: the vault CLI is not on PATH" >&2; exit 1; }
: "${VAULT_ADDR:?set VAULT_ADDR to the Vault address}"

mounted() { vault "$1" list -format=json | grep -q "\"$2/\""; }

# KV v2 for the store keys; every write must use check-and-set, 10 versions are kept.
if ! mounted secrets "$KV_MOUNT"; then
  vault secrets enable -path="$KV_MOUNT" -version=2 -description="refund-broker store keys" kv
fi
vault write "$KV_MOUNT/config" max_versions=10 cas_required=true >/dev/null

# Transit with an ed25519 key for audit checkpoints.
if ! mounted secrets "$TRANSIT_MOUNT"; then
  vault secrets enable -path="$TRANSIT_MOUNT" transit
fi
if ! vault read "$TRANSIT_MOUNT/keys/$TRANSIT_KEY" >/dev/null 2>&1; then
  vault write -f "$TRANSIT_MOUNT/keys/$TRANSIT_KEY" type=ed25519 >/dev/null
fi

# Policies, rewritten for the chosen names. auditor.hcl is documentation only (no token).
render() {
  sed -e "s#\"refund-broker/#\"$KV_MOUNT/#g" \
      -e "s#\"transit/#\"$TRANSIT_MOUNT/#g" \
      -e "s#/refund-broker-audit\"#/$TRANSIT_KEY\"#g" "$here/$1"
}
render broker.hcl | vault policy write refund-broker - >/dev/null
render security-admin.hcl | vault policy write refund-broker-security-admin - >/dev/null

# AppRole: short-lived, renewable service tokens bound to the broker policy. The secret id may
# be used repeatedly (the broker logs in again when its token reaches token_max_ttl) but
# expires after SECRET_ID_TTL; bind it to the broker hosts with SECRET_ID_CIDRS.
if ! mounted auth "$APPROLE_MOUNT"; then
  vault auth enable -path="$APPROLE_MOUNT" approle
fi
role_args=(
  token_policies=refund-broker
  token_type=service
  token_ttl="$TOKEN_TTL"
  token_max_ttl="$TOKEN_MAX_TTL"
  secret_id_ttl="$SECRET_ID_TTL"
  secret_id_num_uses=0
)
if [[ -n "$SECRET_ID_CIDRS" ]]; then
  role_args+=(secret_id_bound_cidrs="$SECRET_ID_CIDRS" token_bound_cidrs="$SECRET_ID_CIDRS")
fi
vault write "auth/$APPROLE_MOUNT/role/$ROLE" "${role_args[@]}" >/dev/null

role_id="$(vault read -field=role_id "auth/$APPROLE_MOUNT/role/$ROLE/role-id")"
wrapped="$(vault write -f -wrap-ttl="$WRAP_TTL" -field=wrapping_token \
  "auth/$APPROLE_MOUNT/role/$ROLE/secret-id")"

cat <<OUT
Vault is ready for refund-broker.

  VAULT_ROLE_ID=$role_id
  wrapped secret id (single use, expires in $WRAP_TTL):
  $wrapped

On the broker host, unwrap it exactly once and keep the result secret:
  VAULT_TOKEN=$wrapped vault unwrap -field=secret_id
Then start the broker with VAULT_ADDR, VAULT_ROLE_ID and VAULT_SECRET_ID set
(see vault-config/README.md). If the unwrap fails, someone else unwrapped it: raise an alert.
OUT

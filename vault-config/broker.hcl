# Vault policy of the refund broker (bound to its AppRole by setup.sh).
#
# Least privilege: each rule below is a call the broker makes, and nothing else is granted.
# Paths assume the defaults VAULT_KV_MOUNT=refund-broker, VAULT_TRANSIT_MOUNT=transit and
# VAULT_TRANSIT_KEY=refund-broker-audit; setup.sh rewrites them when you choose other names.
# Token lookup-self / renew-self come from Vault's built-in "default" policy, which setup.sh
# leaves attached to the broker's tokens.
#
# Not granted, on purpose: "delete" on data/ (soft-delete), anything on delete/, undelete/ and
# destroy/, "delete" on metadata/ (it would wipe every version of a store's keys), "list"
# anywhere (the broker never enumerates stores), "patch", sys/*, and every other mount.

# Store keys, one secret per sales unit (salesunits/<msn>):
#   read   - the current keys (GET data/…) and an old version for a rollback (?version=N;
#            KV v2 policies cannot restrict the version parameter)
#   create - the first keys of a store: Vault requires "create" while the key has no metadata
#   update - every later rotation or rollback (the key exists); always sent with check-and-set
path "refund-broker/data/salesunits/*" {
  capabilities = ["create", "read", "update"]
}

# Version metadata of a store's keys:
#   read   - current_version (the check-and-set value), created_time per version and the
#            custom_metadata rotation bookkeeping shown by GET …/credentials
#   update - write custom_metadata (rotated_by, rotated_at, validated_at, …) after a rotation;
#            the data write above has always created the metadata by then, so "create" is not
#            needed (and would let the broker set max_versions/cas_required on new keys)
#   allowed_parameters - "update" on metadata/ would also accept max_versions, cas_required and
#            delete_version_after, i.e. let the broker prune the key history it promises never
#            to delete. Only custom_metadata (any value) may be sent: a write naming anything
#            else is denied (403). Vault checks these against the request body's top-level
#            fields; its documentation calls parameter constraints unsupported for KV v2, which
#            concerns data/ (the secret sits nested under "data"), while a metadata/ write is
#            flat - see vault-config/README.md. A read sends no parameters, so it is unaffected.
path "refund-broker/metadata/salesunits/*" {
  capabilities = ["read", "update"]
  allowed_parameters = {
    "custom_metadata" = []
  }
}

# Partner keys, one secret per partner (partners/<partnerId>, option A: a partner's keys act for
# every store that names the partner, with that store's MSN). The same calls as for a sales
# unit's keys, for the same reasons:
#   read   - the current keys and an old version for a rollback
#   create - the partner's first keys
#   update - every later rotation or rollback; always with check-and-set
path "refund-broker/data/partners/*" {
  capabilities = ["create", "read", "update"]
}

# Version metadata of a partner's keys: read for the history and check-and-set value, update
# for the rotation bookkeeping in custom_metadata - and nothing else may be sent (see above).
path "refund-broker/metadata/partners/*" {
  capabilities = ["read", "update"]
  allowed_parameters = {
    "custom_metadata" = []
  }
}

# The broker's own secrets, one per name (broker/<name>): the client-certificate CA's private key
# and the audit MAC key. Each is created once, on first start, and never replaced:
#   read   - load it at start
#   create - write its first version (with check-and-set 0). No "update": nothing the broker
#            does replaces one, so its token cannot either
path "refund-broker/data/broker/*" {
  capabilities = ["create", "read"]
}

# Audit checkpoints are signed with the Transit ed25519 key; the private key never leaves Vault.
#   update - POST transit/sign/<key>
path "transit/sign/refund-broker-audit" {
  capabilities = ["update"]
}

#   read   - GET transit/keys/<key>: the public key auditors verify checkpoints with
path "transit/keys/refund-broker-audit" {
  capabilities = ["read"]
}

# Vault policy for human security admins.
#
# Admins rotate and roll back store keys through the broker's API (PUT/POST
# /v1/admin/stores/{storeId}/credentials…), which proves the keys with Vipps, uses
# check-and-set and writes the audit trail. In Vault itself they may only look at the history:
# which versions exist, when they were written, and the rotation bookkeeping in
# custom_metadata. They can never read a secret value.

# Version metadata and custom_metadata of each store's keys (vault kv metadata get …).
path "refund-broker/metadata/salesunits/*" {
  capabilities = ["read", "list"]
}

# Enumerate the stores that have keys (vault kv list refund-broker/salesunits).
path "refund-broker/metadata/salesunits/" {
  capabilities = ["list"]
}

# The same for partner keys (option A): the history, and which partners have keys.
path "refund-broker/metadata/partners/*" {
  capabilities = ["read", "list"]
}

path "refund-broker/metadata/partners/" {
  capabilities = ["list"]
}

# Never the values. Vault applies only the most specific matching pattern, so the deny is
# written on the very pattern broker.hcl grants (identical patterns are unioned and deny wins):
# even a token that carries both policies cannot read a store's keys.
path "refund-broker/data/salesunits/*" {
  capabilities = ["deny"]
}

path "refund-broker/data/partners/*" {
  capabilities = ["deny"]
}

# ... and nothing else on the data side of the mount either.
path "refund-broker/data/*" {
  capabilities = ["deny"]
}

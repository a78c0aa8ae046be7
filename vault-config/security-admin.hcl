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

# Never the values, whatever other policy an admin's token also carries: deny wins in Vault.
path "refund-broker/data/*" {
  capabilities = ["deny"]
}

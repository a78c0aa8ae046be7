# Vault policy for auditors: intentionally empty.
#
# Auditors get no Vault token at all. They read the broker's audit trail through the broker
# (GET /v1/audit/…, role AUDITOR) and Vault's own audit log through file permissions on the log
# host. Mapping a value to its HMAC in Vault's audit log (sys/audit-hash) would need a token,
# so nothing here grants it. This file exists so the empty grant is explicit and reviewed;
# setup.sh does not write it to Vault (a token with no policy is equivalent and simpler).

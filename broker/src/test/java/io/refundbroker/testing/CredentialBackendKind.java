package io.refundbroker.testing;

import io.refundbroker.testing.vault.VaultDouble;

/** The two credential backends, configured on a {@link TestBroker} the way an operator would. */
public enum CredentialBackendKind {
  LOCAL,
  VAULT;

  /** Sets the env of {@code builder} for this backend ({@code vault} may be null for LOCAL). */
  public TestBroker.Builder configure(TestBroker.Builder builder, VaultDouble vault) {
    if (this == LOCAL) {
      return builder.env("CREDENTIALS_BACKEND", "local");
    }
    return builder
        .env("CREDENTIALS_BACKEND", "vault")
        .env("VAULT_ADDR", vault.address())
        .env("VAULT_ROLE_ID", vault.roleId())
        .env("VAULT_SECRET_ID", vault.secretId())
        .env("VAULT_TIMEOUT", "2s")
        .env("VAULT_WORKER_THREADS", "2");
  }
}

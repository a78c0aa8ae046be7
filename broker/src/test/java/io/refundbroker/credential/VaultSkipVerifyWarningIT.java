package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.refundbroker.testing.vault.VaultDouble;
import org.junit.jupiter.api.Test;

/**
 * {@code VAULT_SKIP_VERIFY=true} turns off the check of Vault's certificate: the broker says so at
 * every start, so the development setting cannot pass unnoticed in production.
 */
class VaultSkipVerifyWarningIT {
  private static final String WARNING =
      "WARN io.refundbroker.credential.backends.CredentialBackends VAULT_SKIP_VERIFY=true";

  @Test
  void everyStartWarnsWhileVaultIsNotVerified() {
    TestDatabase db = TestPostgres.newDatabase();
    try (VaultDouble vault = VaultDouble.start();
        LogCapture log = LogCapture.atTrace()) {
      for (int start = 1; start <= 2; start++) {
        TestBroker.Builder builder =
            CredentialBackendKind.VAULT
                .configure(TestBroker.builder().database(db), vault)
                .env("VAULT_SKIP_VERIFY", "true");
        try (TestBroker ignored = builder.start()) {
          assertThat(count(log, WARNING)).as("warnings after start " + start).isEqualTo(start);
        }
      }
      int before = count(log, WARNING);
      try (TestBroker ignored =
          CredentialBackendKind.VAULT.configure(TestBroker.builder().database(db), vault).start()) {
        assertThat(count(log, WARNING)).as("verified Vault: no warning").isEqualTo(before);
      }
    }
  }

  private static int count(LogCapture log, String prefix) {
    return (int) log.text().lines().filter(line -> line.startsWith(prefix)).count();
  }
}

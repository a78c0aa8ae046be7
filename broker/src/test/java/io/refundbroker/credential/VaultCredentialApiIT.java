package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.CredentialBackendKind;
import org.junit.jupiter.api.Test;

/** The credential workflow against Vault (the HTTP double, enforcing vault-config/broker.hcl). */
class VaultCredentialApiIT extends CredentialApiContract {
  @Override
  CredentialBackendKind backend() {
    return CredentialBackendKind.VAULT;
  }

  @Test
  void rotationBookkeepingLandsInCustomMetadata() {
    String[] store = newStore();
    rotate(store[0], keys("client-m", "secret-m", "sub-m"));
    rotate(store[0], keys("client-n", "secret-n", "sub-n"));
    assertThat(vault.currentVersion(store[1])).isEqualTo(2);
    var custom = vault.customMetadata(store[1]);
    assertThat(custom.get("rotated_by")).startsWith("cl_");
    assertThat(custom.get("validated_at")).isNotBlank();
    assertThat(custom).containsKeys("rotated_at", "version_1", "version_2");
    assertThat(custom.values()).noneMatch(v -> v.contains("secret-") || v.contains("sub-"));
  }
}

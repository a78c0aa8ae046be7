package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.CredentialBackendKind;
import java.util.List;
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
    StoreCredentials m = sandbox.newStore(store[1]);
    assertThat(rotate(store[0], keys(m)).status()).isEqualTo(200);
    StoreCredentials n = sandbox.rotate(store[1], 2);
    assertThat(rotate(store[0], keys(n)).status()).isEqualTo(200);
    assertThat(vault.currentVersion(store[1])).isEqualTo(2);
    var custom = vault.customMetadata(store[1]);
    assertThat(custom.get("rotated_by")).startsWith("cl_");
    assertThat(custom.get("validated_at")).isNotBlank();
    assertThat(custom).containsKeys("rotated_at", "version_1", "version_2");
    List<String> secrets =
        List.of(
            m.clientSecret().reveal(),
            m.subscriptionKey().reveal(),
            n.clientSecret().reveal(),
            n.subscriptionKey().reveal());
    assertThat(custom.values()).noneMatch(v -> secrets.stream().anyMatch(v::contains));
  }
}

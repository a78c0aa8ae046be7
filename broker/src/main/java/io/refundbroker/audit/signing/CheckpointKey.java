package io.refundbroker.audit.signing;

import java.util.Objects;

/**
 * One version of a checkpoint-signing key, public half only: what a checkpoint naming {@code keyId}
 * and {@code keyVersion} must verify with.
 */
public record CheckpointKey(String keyId, String keyVersion, Ed25519PublicKey publicKey) {
  public CheckpointKey {
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(keyVersion, "keyVersion");
    Objects.requireNonNull(publicKey, "publicKey");
  }

  /** Whether this is the key a checkpoint naming {@code id} and {@code version} was signed with. */
  public boolean names(String id, String version) {
    return keyId.equals(id) && keyVersion.equals(version);
  }
}

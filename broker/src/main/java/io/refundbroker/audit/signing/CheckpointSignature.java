package io.refundbroker.audit.signing;

import java.util.Objects;

/**
 * A checkpoint signature and the version of the key that made it ({@code 3} for Transit's {@code
 * vault:v3:}; the public key's SHA-256 fingerprint for a key file).
 *
 * @param signature the 64-byte Ed25519 signature
 */
public record CheckpointSignature(String keyVersion, byte[] signature) {
  public CheckpointSignature {
    Objects.requireNonNull(keyVersion, "keyVersion");
    signature = signature.clone();
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof CheckpointSignature s
        && keyVersion.equals(s.keyVersion)
        && java.util.Arrays.equals(signature, s.signature);
  }

  @Override
  public int hashCode() {
    return keyVersion.hashCode() * 31 + java.util.Arrays.hashCode(signature);
  }

  @Override
  public String toString() {
    return "CheckpointSignature[keyVersion=" + keyVersion + "]";
  }
}

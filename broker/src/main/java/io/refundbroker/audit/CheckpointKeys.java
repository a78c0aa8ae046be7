package io.refundbroker.audit;

import io.refundbroker.audit.signing.CheckpointKey;
import io.refundbroker.audit.signing.Ed25519PublicKey;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The public keys a verification may use: <em>named</em> keys (key id and version, from the signer
 * or from a key set exported by {@code GET /v1/audit/public-keys}) and <em>unnamed</em> ones (PEM
 * files given with {@code --public-key}, which carry no version). Immutable.
 *
 * <p>How a checkpoint is matched to a key is {@link AuditVerifier}'s business; this class only
 * holds the keys and reads and writes the key-set form.
 */
public final class CheckpointKeys {
  private final List<CheckpointKey> named;
  private final List<Ed25519PublicKey> unnamed;

  private CheckpointKeys(List<CheckpointKey> named, List<Ed25519PublicKey> unnamed) {
    this.named = List.copyOf(named);
    this.unnamed = List.copyOf(unnamed);
  }

  /** Named keys only (what the broker itself knows). */
  public static CheckpointKeys of(List<CheckpointKey> named) {
    return new CheckpointKeys(named, List.of());
  }

  /** Named keys and unnamed ones. */
  public static CheckpointKeys of(List<CheckpointKey> named, List<Ed25519PublicKey> unnamed) {
    return new CheckpointKeys(named, unnamed);
  }

  /** Unnamed keys only (PEM files, as before keys had versions). */
  public static CheckpointKeys unnamed(List<Ed25519PublicKey> unnamed) {
    return new CheckpointKeys(List.of(), unnamed);
  }

  public List<CheckpointKey> named() {
    return named;
  }

  public List<Ed25519PublicKey> unnamed() {
    return unnamed;
  }

  /** The named key for {@code keyId} and {@code keyVersion}, or null. */
  public CheckpointKey find(String keyId, String keyVersion) {
    for (CheckpointKey key : named) {
      if (key.names(keyId, keyVersion)) {
        return key;
      }
    }
    return null;
  }

  /**
   * Reads a key set: the body of {@code GET /v1/audit/public-keys} ({@code {"keys":[{"keyId",
   * "keyVersion", "algorithm", "publicKeyPem", "fingerprint"?, …}]}}) or its bare {@code keys}
   * array. Usage fields (first and last checkpoint) are ignored.
   *
   * @throws IllegalArgumentException naming the entry that is malformed, is not Ed25519, or whose
   *     {@code fingerprint} does not match its PEM
   */
  public static List<CheckpointKey> readKeySet(Object json) {
    JsonArray entries =
        json instanceof JsonObject object ? object.getJsonArray("keys") : (JsonArray) json;
    if (entries == null) {
      throw new IllegalArgumentException("a key set is {\"keys\": [...]}");
    }
    List<CheckpointKey> keys = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      if (!(entries.getValue(i) instanceof JsonObject entry)) {
        throw new IllegalArgumentException("key " + (i + 1) + " is not a JSON object");
      }
      String keyId = entry.getString("keyId");
      String keyVersion = entry.getString("keyVersion");
      String pem = entry.getString("publicKeyPem");
      if (keyId == null || keyVersion == null || pem == null) {
        throw new IllegalArgumentException(
            "key " + (i + 1) + " needs keyId, keyVersion and publicKeyPem");
      }
      if (!Checkpoint.ALGORITHM.equals(entry.getString("algorithm", Checkpoint.ALGORITHM))) {
        throw new IllegalArgumentException("key " + (i + 1) + " is not an Ed25519 key");
      }
      Ed25519PublicKey publicKey;
      try {
        publicKey = Ed25519PublicKey.fromPem(pem);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("key " + (i + 1) + ": " + e.getMessage(), e);
      }
      String fingerprint = entry.getString("fingerprint");
      if (fingerprint != null && !fingerprint.equals(publicKey.fingerprint())) {
        throw new IllegalArgumentException(
            "key " + (i + 1) + ": its fingerprint does not match its publicKeyPem");
      }
      keys.add(new CheckpointKey(keyId, keyVersion, publicKey));
    }
    return keys;
  }
}

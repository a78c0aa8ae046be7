package io.refundbroker.audit;

import io.refundbroker.audit.signing.CheckpointSignature;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Objects;

/**
 * A signed statement "the audit chain's event {@code seq} has hash {@code headHash}", made at
 * {@code signedAt}. The signature is Ed25519 over {@link #signedMessage()}, made with a key the
 * database never holds, so whoever can rewrite the database still cannot make a checkpoint that
 * vouches for a rewritten chain.
 *
 * <p>{@code keyId} names the signing key and {@code keyVersion} the exact version of it that signed
 * ({@code 3} for Transit's {@code vault:v3:}, the public key's SHA-256 fingerprint for a key file),
 * so a verifier checks each checkpoint with the key it names and a key rotation never looks like
 * tampering. The version is not part of the signed message: relabelling a checkpoint only makes it
 * fail to verify. Checkpoints made before versions were recorded have none.
 *
 * @param keyVersion the signing key's version, or null for a checkpoint made before versions were
 *     recorded
 * @param signature the 64-byte Ed25519 signature, or null before signing
 */
public record Checkpoint(
    long seq,
    String headHash,
    Instant signedAt,
    String keyId,
    String keyVersion,
    byte[] signature) {
  /** Identifies what the signature is over, so it can never be mistaken for another message. */
  public static final String MESSAGE_TYPE = "refund-broker.audit.checkpoint.v1";

  public static final String ALGORITHM = "Ed25519";

  public Checkpoint {
    Objects.requireNonNull(headHash, "headHash");
    Objects.requireNonNull(signedAt, "signedAt");
    Objects.requireNonNull(keyId, "keyId");
    if (keyVersion != null && (keyVersion.isBlank() || keyVersion.length() > 200)) {
      throw new IllegalArgumentException("a checkpoint's keyVersion must be 1-200 characters");
    }
    signedAt = signedAt.truncatedTo(ChronoUnit.MICROS);
    signature = signature == null ? null : signature.clone();
  }

  /** A checkpoint without a recorded key version (as made before versions were recorded). */
  public Checkpoint(long seq, String headHash, Instant signedAt, String keyId, byte[] signature) {
    this(seq, headHash, signedAt, keyId, null, signature);
  }

  /**
   * The exact bytes that are signed: the UTF-8 {@link CanonicalJson} encoding of {@code
   * {"headHash", "seq", "signedAt" (UTC, microseconds), "type"}}.
   */
  public byte[] signedMessage() {
    JsonObject message =
        new JsonObject()
            .put("type", MESSAGE_TYPE)
            .put("seq", seq)
            .put("headHash", headHash)
            .put("signedAt", ChainedEvent.formatTime(signedAt));
    return CanonicalJson.encode(message).getBytes(StandardCharsets.UTF_8);
  }

  public Checkpoint withSignature(byte[] newSignature) {
    return new Checkpoint(seq, headHash, signedAt, keyId, keyVersion, newSignature);
  }

  /** This checkpoint signed: the signature and the version of the key that made it. */
  public Checkpoint signedWith(CheckpointSignature signed) {
    return new Checkpoint(seq, headHash, signedAt, keyId, signed.keyVersion(), signed.signature());
  }

  @Override
  public byte[] signature() {
    return signature == null ? null : signature.clone();
  }

  /** The export form (signature in base64). */
  public JsonObject toJson() {
    return new JsonObject()
        .put("seq", seq)
        .put("headHash", headHash)
        .put("signedAt", ChainedEvent.formatTime(signedAt))
        .put("keyId", keyId)
        .put("keyVersion", keyVersion)
        .put("algorithm", ALGORITHM)
        .put("signature", signature == null ? null : Base64.getEncoder().encodeToString(signature));
  }

  /**
   * Reads the export form back.
   *
   * @throws IllegalArgumentException naming the member that is missing or malformed
   */
  public static Checkpoint fromJson(JsonObject json) {
    try {
      Long seq = json.getLong("seq");
      String headHash = json.getString("headHash");
      String signedAt = json.getString("signedAt");
      String keyId = json.getString("keyId");
      String keyVersion = json.getString("keyVersion");
      String signature = json.getString("signature");
      if (seq == null || headHash == null || signedAt == null || keyId == null) {
        throw new IllegalArgumentException(
            "a checkpoint needs seq, headHash, signedAt, keyId and signature");
      }
      if (json.containsKey("algorithm") && !ALGORITHM.equals(json.getString("algorithm"))) {
        throw new IllegalArgumentException("unsupported checkpoint algorithm");
      }
      return new Checkpoint(
          seq,
          headHash,
          Instant.parse(signedAt),
          keyId,
          keyVersion,
          signature == null ? null : Base64.getDecoder().decode(signature));
    } catch (ClassCastException | DateTimeParseException e) {
      throw new IllegalArgumentException("malformed checkpoint: " + e.getMessage(), e);
    }
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Checkpoint c
        && seq == c.seq
        && headHash.equals(c.headHash)
        && signedAt.equals(c.signedAt)
        && keyId.equals(c.keyId)
        && Objects.equals(keyVersion, c.keyVersion)
        && java.util.Arrays.equals(signature, c.signature);
  }

  @Override
  public int hashCode() {
    return Objects.hash(seq, headHash, signedAt, keyId, keyVersion) * 31
        + java.util.Arrays.hashCode(signature);
  }

  @Override
  public String toString() {
    return "Checkpoint[seq="
        + seq
        + ", headHash="
        + headHash
        + ", keyId="
        + keyId
        + ", keyVersion="
        + keyVersion
        + "]";
  }
}

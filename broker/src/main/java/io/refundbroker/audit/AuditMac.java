package io.refundbroker.audit;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The audit MAC: HMAC-SHA256 over an event's canonical entry content ({@link
 * AuditEntry#canonical()}), keyed with 256 random bits the database never holds. The broker MACs
 * every event it appends; an event inserted into the trail by anyone without the key (the
 * application role, the database owner) carries no valid MAC, and the checkpointer and {@code GET
 * /v1/audit/verify} name it.
 *
 * <p>The key is the broker secret {@value #SECRET} (Vault KV {@code broker/audit-mac}, or
 * envelope-encrypted by the local backend; see {@code Credentials.brokerSecrets()}), created on
 * first start from {@link #newKey} and loaded once with {@link #fromSecret}. It never appears in a
 * log line, a response, a column or a metric; {@link #toString()} is redacted and there is no
 * accessor for it. Thread-safe: each thread computes with its own {@link Mac}.
 */
public final class AuditMac {
  /** The name of the broker secret that holds the key. */
  public static final String SECRET = "audit-mac";

  private static final String ALGORITHM = "HmacSHA256";
  private static final String FIELD = "key";
  private static final int KEY_BYTES = 32;

  private final SecretKeySpec key;
  private final ThreadLocal<Mac> macs;

  private AuditMac(byte[] keyBytes) {
    if (keyBytes.length != KEY_BYTES) {
      throw new IllegalArgumentException("the audit MAC key must be " + KEY_BYTES + " bytes");
    }
    this.key = new SecretKeySpec(keyBytes, ALGORITHM);
    this.macs = ThreadLocal.withInitial(this::newMac);
  }

  /** Makes the fields of a new key: 256 random bits (generated on {@code worker}), base64. */
  public static Supplier<Future<Map<String, String>>> newKey(WorkerExecutor worker) {
    return () -> worker.executeBlocking(AuditMac::generate, false);
  }

  /**
   * The MAC with the key stored as the broker secret {@value #SECRET}.
   *
   * @return fails when the stored value is not a base64 256-bit key (the message never contains the
   *     value)
   */
  public static Future<AuditMac> fromSecret(Map<String, String> fields) {
    try {
      return Future.succeededFuture(fromStored(fields));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(
          new IllegalStateException(
              "the stored audit MAC key (broker secret '"
                  + SECRET
                  + "') is not a base64 256-bit key"));
    }
  }

  /** A MAC with a fresh random key (tests and tools; the broker uses {@link #fromSecret}). */
  public static AuditMac random() {
    return fromStored(generate());
  }

  private static Map<String, String> generate() {
    byte[] bytes = new byte[KEY_BYTES];
    new SecureRandom().nextBytes(bytes);
    try {
      return Map.of(FIELD, Base64.getEncoder().encodeToString(bytes));
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  private static AuditMac fromStored(Map<String, String> fields) {
    String encoded = fields.get(FIELD);
    if (encoded == null) {
      throw new IllegalArgumentException("no key field");
    }
    byte[] bytes = Base64.getDecoder().decode(encoded);
    try {
      return new AuditMac(bytes);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** The MAC of {@code canonical} (an entry's canonical content), as 64 lower-case hex digits. */
  public String mac(String canonical) {
    return HexFormat.of().formatHex(macs.get().doFinal(canonical.getBytes(StandardCharsets.UTF_8)));
  }

  /** Whether {@code entry} carries the MAC of its content (false when it carries none). */
  public boolean verifies(AuditEntry entry) {
    return entry.mac() != null && verifies(entry.canonical(), entry.mac());
  }

  /** Whether {@code claimed} is the MAC of {@code canonical} (compared in constant time). */
  public boolean verifies(String canonical, String claimed) {
    byte[] expected = mac(canonical).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, claimed.getBytes(StandardCharsets.US_ASCII));
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      return mac;
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  @Override
  public String toString() {
    return "AuditMac[HmacSHA256, key redacted]";
  }
}

package io.refundbroker.audit;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;

/**
 * An audit event with its place in the chain. Its hash is {@code SHA-256(prevHash + "\n" +
 * canonical)}, where {@code canonical} is the {@link CanonicalJson} encoding of {@link #content()}.
 * Times are kept to the microsecond, as PostgreSQL stores them.
 */
public record ChainedEvent(
    long seq,
    Instant occurredAt,
    Actor actor,
    String action,
    String subjectType,
    String subjectId,
    String chainId,
    String outcome,
    String requestId,
    JsonObject details,
    String prevHash,
    String hash) {

  public static final String GENESIS_HASH = "0".repeat(64);
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  /** Places {@code event} after {@code prevHash} at {@code seq} and computes its hash. */
  public static ChainedEvent chain(
      long seq,
      Instant occurredAt,
      Actor actor,
      String requestId,
      AuditEvent event,
      String prevHash) {
    Instant at = occurredAt.truncatedTo(ChronoUnit.MICROS);
    ChainedEvent unhashed =
        new ChainedEvent(
            seq,
            at,
            actor,
            event.action(),
            event.subjectType(),
            event.subjectId(),
            event.chainId(),
            event.outcome(),
            requestId,
            event.details(),
            prevHash,
            null);
    return unhashed.withHash(unhashed.computeHash());
  }

  /** The fields the hash covers, in their canonical JSON shape. */
  public JsonObject content() {
    return new JsonObject()
        .put("seq", seq)
        .put("occurredAt", formatTime(occurredAt))
        .put(
            "actor",
            new JsonObject()
                .put("clientId", actor.clientId())
                .put("role", actor.role())
                .put("storeId", actor.storeId()))
        .put("action", action)
        .put("subject", new JsonObject().put("type", subjectType).put("id", subjectId))
        .put("chainId", chainId)
        .put("outcome", outcome)
        .put("requestId", requestId)
        .put("details", details);
  }

  /** Recomputes the hash from the content and {@link #prevHash()}. */
  public String computeHash() {
    String canonical = CanonicalJson.encode(content());
    return sha256Hex(prevHash + "\n" + canonical);
  }

  public ChainedEvent withHash(String newHash) {
    return new ChainedEvent(
        seq,
        occurredAt,
        actor,
        action,
        subjectType,
        subjectId,
        chainId,
        outcome,
        requestId,
        details,
        prevHash,
        newHash);
  }

  /** The export form: the content plus {@code prevHash} and {@code hash}. */
  public JsonObject toJson() {
    return content().put("prevHash", prevHash).put("hash", hash);
  }

  /**
   * Reads the export form ({@link #toJson()}) back, e.g. a line of a JSONL export.
   *
   * @throws IllegalArgumentException naming the member that is missing or malformed
   */
  public static ChainedEvent fromJson(JsonObject json) {
    try {
      JsonObject actor = required(json.getJsonObject("actor"), "actor");
      JsonObject subject = required(json.getJsonObject("subject"), "subject");
      return new ChainedEvent(
          required(json.getLong("seq"), "seq"),
          Instant.parse(required(json.getString("occurredAt"), "occurredAt")),
          new Actor(
              actor.getString("clientId"),
              required(actor.getString("role"), "actor.role"),
              actor.getString("storeId")),
          required(json.getString("action"), "action"),
          required(subject.getString("type"), "subject.type"),
          required(subject.getString("id"), "subject.id"),
          json.getString("chainId"),
          required(json.getString("outcome"), "outcome"),
          json.getString("requestId"),
          required(json.getJsonObject("details"), "details"),
          required(json.getString("prevHash"), "prevHash"),
          required(json.getString("hash"), "hash"));
    } catch (ClassCastException | java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException("malformed audit event: " + e.getMessage(), e);
    }
  }

  private static <T> T required(T value, String member) {
    if (value == null) {
      throw new IllegalArgumentException("audit event has no '" + member + "'");
    }
    return value;
  }

  public static String formatTime(Instant instant) {
    return TIME.format(instant.truncatedTo(ChronoUnit.MICROS));
  }

  static String sha256Hex(String text) {
    MessageDigest sha256 = SHA256.get();
    return HexFormat.of().formatHex(sha256.digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** One digest per thread: getInstance costs about as much as hashing a small event. */
  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("SHA-256 missing from the JDK", e);
            }
          });
}

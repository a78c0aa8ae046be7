package io.refundbroker.audit;

import io.refundbroker.caller.Actor;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Objects;
import java.util.UUID;

/**
 * An audit event with its place in the chain, as the sequencer linked it: {@code seq}, the entry,
 * the previous event's hash and its own hash.
 *
 * <p>The hash of an event is {@code SHA-256(prevHash + "\n" + seq + "\n" + entryHash + "\n" +
 * mac)}, where {@code entryHash} is {@code SHA-256} of the entry's canonical content ({@link
 * AuditEntry#canonical()}) — simple enough that the links table's trigger recomputes it in SQL and
 * refuses a link that does not match. A legacy event (appended before schema V10, no MAC) keeps its
 * old hash, {@code SHA-256(prevHash + "\n" + canonical(content with seq))}. Times are kept to the
 * microsecond, as PostgreSQL stores them.
 */
public record ChainedEvent(long seq, AuditEntry entry, String prevHash, String hash) {

  public static final String GENESIS_HASH = "0".repeat(64);
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  public ChainedEvent {
    Objects.requireNonNull(entry, "entry");
    Objects.requireNonNull(prevHash, "prevHash");
  }

  /** Places {@code entry} after {@code prevHash} at {@code seq} and computes its hash. */
  public static ChainedEvent chain(long seq, AuditEntry entry, String prevHash) {
    return new ChainedEvent(seq, entry, prevHash, linkHash(seq, entry, prevHash));
  }

  /** The chain hash of {@code entry} at {@code seq} after {@code prevHash}. */
  public static String linkHash(long seq, AuditEntry entry, String prevHash) {
    if (entry.legacy()) {
      return sha256Hex(prevHash + "\n" + CanonicalJson.encode(entry.content().put("seq", seq)));
    }
    return linkHash(seq, entry.entryHash(), entry.mac(), prevHash);
  }

  /**
   * The chain hash from an entry hash and MAC: the same formula as the {@code audit_links} trigger
   * (V10).
   */
  public static String linkHash(long seq, String entryHash, String mac, String prevHash) {
    return sha256Hex(prevHash + "\n" + seq + "\n" + entryHash + "\n" + mac);
  }

  /** Recomputes the hash from the content, the MAC, {@code seq} and {@link #prevHash()}. */
  public String computeHash() {
    return linkHash(seq, entry, prevHash);
  }

  public ChainedEvent withHash(String newHash) {
    return new ChainedEvent(seq, entry, prevHash, newHash);
  }

  public Instant occurredAt() {
    return entry.occurredAt();
  }

  public Actor actor() {
    return entry.actor();
  }

  public String action() {
    return entry.action();
  }

  public String subjectType() {
    return entry.subjectType();
  }

  public String subjectId() {
    return entry.subjectId();
  }

  public String chainId() {
    return entry.chainId();
  }

  public String outcome() {
    return entry.outcome();
  }

  public String requestId() {
    return entry.requestId();
  }

  public JsonObject details() {
    return entry.details();
  }

  /**
   * The export form: {@code seq}, the entry's content ({@code eventId} and {@code mac} unless
   * legacy; the content {@code type} is implied), {@code prevHash} and {@code hash}.
   */
  public JsonObject toJson() {
    JsonObject json = entry.content();
    json.remove("type");
    json.put("seq", seq);
    if (!entry.legacy()) {
      json.put("mac", entry.mac());
    }
    return json.put("prevHash", prevHash).put("hash", hash);
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
      String eventId = json.getString("eventId");
      String mac = json.getString("mac");
      if ((eventId == null) != (mac == null)) {
        throw new IllegalArgumentException("audit event has an eventId or a mac without the other");
      }
      AuditEntry entry =
          new AuditEntry(
              eventId == null ? null : UUID.fromString(eventId),
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
              mac);
      return new ChainedEvent(
          required(json.getLong("seq"), "seq"),
          entry,
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

package io.refundbroker.audit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * What happened, before it is given a place in the chain. {@code details} must be plain JSON
 * (strings, integers, booleans, nested objects/arrays) and must never contain a secret.
 *
 * <p>{@code details} is normalised by a JSON encode/decode round trip, so the event is hashed over
 * exactly the values PostgreSQL's {@code jsonb} (and an exported file) gives back: a {@code
 * byte[]}, {@code Instant}, enum or {@code BigDecimal} put into a {@link JsonObject} is encoded by
 * Jackson (base64, ISO text, name, number), whereas hashing the Java object directly would use its
 * {@code toString()} and make an untouched event fail verification after it is read back.
 *
 * @param action dotted verb such as {@code store.created} or {@code refund.succeeded}
 * @param subjectType the kind of thing changed ({@code store}, {@code client}, {@code refund} …)
 * @param subjectId its id
 * @param chainId the retail chain it belongs to, when there is one
 * @param outcome {@code SUCCESS}, or a short upper-case word for what else happened
 */
public record AuditEvent(
    String action,
    String subjectType,
    String subjectId,
    String chainId,
    String outcome,
    JsonObject details) {

  public AuditEvent {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(subjectType, "subjectType");
    Objects.requireNonNull(subjectId, "subjectId");
    Objects.requireNonNull(outcome, "outcome");
    details =
        details == null
            ? new JsonObject()
            : plain(details) ? details.copy() : new JsonObject(details.encode());
  }

  /**
   * True when {@code value} holds only what a JSON round trip gives back unchanged (strings,
   * integers, booleans, null, nested {@link JsonObject}s and {@link JsonArray}s of those): then a
   * deep copy is the normalised form, without encoding and parsing the details.
   */
  private static boolean plain(Object value) {
    if (value == null
        || value instanceof String
        || value instanceof Boolean
        || value instanceof Integer
        || value instanceof Long) {
      return true;
    }
    if (value instanceof JsonObject object) {
      for (Object member : object.getMap().values()) {
        if (!plain(member)) {
          return false;
        }
      }
      return true;
    }
    if (value instanceof JsonArray array) {
      for (Object element : array.getList()) {
        if (!plain(element)) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  public static AuditEvent success(
      String action, String subjectType, String subjectId, String chainId, JsonObject details) {
    return new AuditEvent(action, subjectType, subjectId, chainId, "SUCCESS", details);
  }
}

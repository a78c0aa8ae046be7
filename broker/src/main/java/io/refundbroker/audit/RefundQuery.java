package io.refundbroker.audit;

import io.refundbroker.error.ProblemException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.UUID;

/**
 * The auditor's filters over the refund log, and the keyset position to continue after. All filters
 * are optional; {@code from} is inclusive and {@code to} exclusive (on {@code createdAt}).
 */
public record RefundQuery(
    Instant from,
    Instant to,
    String chainId,
    String requestingStoreId,
    String originStoreId,
    String status,
    String orderId,
    Position after,
    int limit) {

  /** A place in the (createdAt, refundId) order. */
  public record Position(Instant createdAt, UUID refundId) {

    /** The opaque cursor a client passes back as {@code cursor}. */
    public String encode() {
      String raw = ChainedEvent.formatTime(createdAt) + "|" + refundId;
      return Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads a cursor made by {@link #encode()}.
     *
     * @throws ProblemException 400 {@code INVALID_CURSOR} when it was not
     */
    public static Position decode(String cursor) {
      try {
        String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
        int bar = raw.indexOf('|');
        if (bar < 0) {
          throw new IllegalArgumentException("no separator");
        }
        return new Position(
            Instant.parse(raw.substring(0, bar)), UUID.fromString(raw.substring(bar + 1)));
      } catch (IllegalArgumentException | DateTimeParseException e) {
        throw ProblemException.badRequest(
            "INVALID_CURSOR",
            "The cursor is not one this endpoint returned; pass nextCursor from the previous page"
                + " unchanged (or leave it out to start from the beginning).");
      }
    }
  }

  /** The filters, for the audit event that records this read. */
  public JsonObject filters() {
    JsonObject json = new JsonObject();
    if (from != null) {
      json.put("from", ChainedEvent.formatTime(from));
    }
    if (to != null) {
      json.put("to", ChainedEvent.formatTime(to));
    }
    putIfSet(json, "chainId", chainId);
    putIfSet(json, "requestingStoreId", requestingStoreId);
    putIfSet(json, "originStoreId", originStoreId);
    putIfSet(json, "status", status);
    putIfSet(json, "orderId", orderId);
    if (after != null) {
      json.put("cursor", after.encode());
    }
    return json;
  }

  private static void putIfSet(JsonObject json, String name, String value) {
    if (value != null) {
      json.put(name, value);
    }
  }
}

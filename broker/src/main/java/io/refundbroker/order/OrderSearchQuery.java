package io.refundbroker.order;

import io.refundbroker.error.ProblemException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * A cashier's search over the orders of the caller's chain ({@code GET /v1/orders}). Every filter
 * is optional, but at least one must be set; {@code from} is inclusive and {@code to} exclusive, on
 * the capture time.
 *
 * @param q a fragment of the order id (at least {@link #MIN_FRAGMENT} characters), matched anywhere
 *     in the id, ignoring case
 * @param amount the captured amount, exactly, in minor units
 * @param originStoreId the store the sale was made in
 * @param after where the previous page ended, or null for the first page
 * @param limit hits per page, 1 to {@link #MAX_LIMIT}
 */
public record OrderSearchQuery(
    String q,
    Long amount,
    Instant from,
    Instant to,
    String originStoreId,
    Position after,
    int limit) {
  public static final int MIN_FRAGMENT = 4;
  public static final int DEFAULT_LIMIT = 20;
  public static final int MAX_LIMIT = 50;

  /**
   * @throws ProblemException 400 {@code FILTER_REQUIRED} without any filter, 400 {@code
   *     INVALID_TIME_RANGE} when {@code from} is not before {@code to}
   */
  public OrderSearchQuery {
    if (from != null && to != null && !from.isBefore(to)) {
      throw ProblemException.badRequest(
          "INVALID_TIME_RANGE",
          "'from' must be before 'to' (from is inclusive, to exclusive; one day is"
              + " from=2026-11-30T00:00:00+01:00&to=2026-12-01T00:00:00+01:00).");
    }
    if (q == null && amount == null && from == null && to == null && originStoreId == null) {
      throw ProblemException.badRequest(
          "FILTER_REQUIRED",
          "Say what to search for: 'q' (at least "
              + MIN_FRAGMENT
              + " characters of the order id, e.g. the last digits on the receipt), 'amount'"
              + " (minor units), 'from'/'to' (capture time) or 'originStoreId'.");
    }
  }

  /**
   * A place in the search order: capture time, newest first (an order without a capture time after
   * every dated one), then store id and order id, both descending.
   *
   * @param capturedAt null for an order whose capture time nobody knows
   */
  public record Position(Instant capturedAt, String storeId, String orderId) {
    private static final String VERSION = "o1";
    private static final String UNKNOWN_TIME = "-";
    private static final Pattern STORE_ID = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$");
    private static final Pattern ORDER_ID = Pattern.compile("^[A-Za-z0-9-]{1,50}$");

    /** The opaque cursor a client passes back as {@code cursor}. */
    public String encode() {
      String time = capturedAt == null ? UNKNOWN_TIME : capturedAt.toString();
      String raw = String.join("|", VERSION, time, storeId, orderId);
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
        String[] parts = raw.split("\\|", -1);
        if (parts.length != 4
            || !parts[0].equals(VERSION)
            || !STORE_ID.matcher(parts[2]).matches()
            || !ORDER_ID.matcher(parts[3]).matches()) {
          throw new IllegalArgumentException("not a search position");
        }
        Instant time = parts[1].equals(UNKNOWN_TIME) ? null : Instant.parse(parts[1]);
        return new Position(time, parts[2], parts[3]);
      } catch (IllegalArgumentException | DateTimeParseException e) {
        throw ProblemException.badRequest(
            "INVALID_CURSOR",
            "'cursor' is not one this search returned; pass nextCursor from the previous page"
                + " unchanged (or leave it out to start from the newest order).");
      }
    }
  }
}

package io.refundbroker.http;

import io.refundbroker.error.ProblemException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/** Parsing of RFC 3339 times from requests. */
public final class Times {
  private Times() {}

  /**
   * Parses an RFC 3339 date-time ({@code 2026-03-01T12:00:00Z} or with an offset).
   *
   * @return the instant, or null for null input
   * @throws ProblemException 400 {@code VALIDATION_FAILED} naming {@code field}
   */
  public static Instant parseOptional(String value, String field) {
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException e) {
      throw ProblemException.badRequest(
          "VALIDATION_FAILED",
          field + " must be an RFC 3339 date-time such as 2026-03-01T12:00:00Z.");
    }
  }
}

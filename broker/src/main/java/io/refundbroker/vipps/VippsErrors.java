package io.refundbroker.vipps;

import io.refundbroker.vipps.RefundOutcome.RejectReason;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a non-2xx answer from Vipps and says what it means for the broker. The rules, in order:
 *
 * <ul>
 *   <li>401: the access token (or the keys behind it) was refused; the client drops the token,
 *       fetches one more and retries once.
 *   <li>408, 423, 425, 429 and every 5xx are transient: retried with the same idempotency key, and
 *       still {@link Meaning#TRANSIENT} (so {@code UNKNOWN}) once the attempts are used up.
 *   <li>403: the keys are not allowed to act for this MSN — a definitive {@code BAD_CREDENTIALS}.
 *   <li>Any other 4xx is a definitive rejection <em>only</em> when it carries a recognisable Vipps
 *       error body: an ePayment problem with a {@code type} (identified by its type, never its
 *       title), an eCom error array with an {@code errorCode}, or an Azure API-management error. A
 *       4xx whose body cannot be read is {@link Meaning#AMBIGUOUS}: the broker does not know who
 *       answered, so it never turns it into a rejection.
 *   <li>Errors that may be the echo of our own earlier attempt (eCom {@code 92} "already
 *       processed", ePayment "Idempotency-Key already exists") are {@link Meaning#AMBIGUOUS}.
 * </ul>
 *
 * <p>ePayment problem types: the 1.4.1 spec only says {@code type} is a URI that identifies the
 * problem and the FAQ lists titles, not type URIs. The broker therefore keys on the type's last
 * segment (after {@code #} or the last {@code /}) spelled as the FAQ title in kebab case, e.g.
 * {@code …#not-enough-refundable}; the built-in sandbox answers with exactly these types.
 */
final class VippsErrors {

  /** What an error answer means for the call. */
  enum Meaning {
    /** Try again later with the same idempotency key (rate limit, lock, 5xx…). */
    TRANSIENT,
    /** The access token was refused: drop it, fetch another, retry once. */
    UNAUTHORIZED,
    /** Vipps definitively refused the request; nothing was applied by it. */
    REJECTED,
    /** An answer that does not say whether anything was applied. */
    AMBIGUOUS
  }

  /**
   * The reading of one answer.
   *
   * @param meaning what to do with it
   * @param reason for {@link Meaning#REJECTED}, why
   * @param code the Vipps error identifier (problem type segment or eCom errorCode), or null
   * @param detail our own short description (never upstream free text)
   */
  record Verdict(Meaning meaning, RejectReason reason, String code, String detail) {}

  private record Known(Meaning meaning, RejectReason reason, String text) {}

  /** ePayment problem type identifiers (kebab-case FAQ titles). */
  private static final Map<String, Known> EPAYMENT =
      Map.ofEntries(
          rejected(
              "not-enough-refundable",
              RejectReason.NOT_ENOUGH_REFUNDABLE,
              "the amount exceeds what is left to refund"),
          rejected(
              "payment-already-refunded",
              RejectReason.NOT_ENOUGH_REFUNDABLE,
              "the payment is already fully refunded"),
          rejected(
              "refund-period-expired",
              RejectReason.REFUND_WINDOW_PASSED,
              "the 365-day refund period has passed"),
          rejected(
              "refund-idempotency-conflict",
              RejectReason.IDEMPOTENCY_CONFLICT,
              "the idempotency key was used before with another request"),
          rejected(
              "attempted-refund-before-reservation",
              RejectReason.PAYMENT_NOT_CAPTURED,
              "the payment is not reserved/captured"),
          rejected(
              "payment-cannot-be-refunded",
              RejectReason.OTHER,
              "the payment's state does not allow a refund"),
          rejected(
              "reference-not-found",
              RejectReason.REFERENCE_NOT_FOUND,
              "the reference does not exist for this MSN"),
          rejected("amount-invalid", RejectReason.INVALID_REQUEST, "the amount is invalid"),
          rejected("amount-too-small", RejectReason.INVALID_REQUEST, "the amount is too small"),
          rejected(
              "missing-required-parameter",
              RejectReason.INVALID_REQUEST,
              "a required parameter is missing"),
          rejected(
              "validation-error", RejectReason.INVALID_REQUEST, "the request did not validate"),
          Map.entry(
              "order-processing",
              new Known(Meaning.TRANSIENT, null, "the payment is being processed")),
          Map.entry(
              "idempotency-error",
              new Known(Meaning.AMBIGUOUS, null, "the idempotency key already exists at Vipps")),
          Map.entry(
              "internal-error", new Known(Meaning.TRANSIENT, null, "Vipps reported an error")));

  /** eCom v2 refund errorCodes (vipps-ecom-api.md, Error codes). */
  private static final Map<String, Known> ECOM =
      Map.ofEntries(
          rejected(
              "71",
              RejectReason.NOT_ENOUGH_REFUNDABLE,
              "cannot refund more than the captured amount"),
          rejected("72", RejectReason.PAYMENT_NOT_CAPTURED, "the order is reserved, not captured"),
          rejected("73", RejectReason.PAYMENT_CANCELLED, "the order is cancelled"),
          rejected("74", RejectReason.OTHER, "refund failed during debit of the merchant"),
          rejected("95", RejectReason.REFUND_WINDOW_PASSED, "the 365-day refund period has passed"),
          rejected(
              "93",
              RejectReason.IDEMPOTENCY_CONFLICT,
              "the X-Request-Id was used before with another request"),
          rejected(
              "35", RejectReason.REFERENCE_NOT_FOUND, "the orderId does not exist for the MSN"),
          rejected("37", RejectReason.MERCHANT_BLOCKED, "the sales unit is deactivated or blocked"),
          Map.entry(
              "92", new Known(Meaning.AMBIGUOUS, null, "the transaction was already processed")),
          Map.entry("94", new Known(Meaning.TRANSIENT, null, "the order is locked")),
          Map.entry("98", new Known(Meaning.TRANSIENT, null, "too many concurrent requests")),
          Map.entry("99", new Known(Meaning.TRANSIENT, null, "Vipps internal error")));

  private VippsErrors() {}

  private static Map.Entry<String, Known> rejected(String id, RejectReason reason, String text) {
    return Map.entry(id, new Known(Meaning.REJECTED, reason, text));
  }

  /**
   * Classifies a non-2xx answer from the {@code api} flavour's endpoints (the access-token endpoint
   * counts as either).
   */
  static Verdict classify(VippsApi api, int status, Buffer body) {
    if (status == 401) {
      return new Verdict(
          Meaning.UNAUTHORIZED, null, null, "Vipps refused the access token or keys (HTTP 401)");
    }
    if (status == 408 || status == 423 || status == 425 || status == 429 || status >= 500) {
      String code = api == VippsApi.ECOM ? ecomCode(body) : problemType(body);
      return new Verdict(
          Meaning.TRANSIENT, null, code, "Vipps answered HTTP " + status + suffix(code));
    }
    if (status == 403) {
      return new Verdict(
          Meaning.REJECTED,
          RejectReason.BAD_CREDENTIALS,
          null,
          "Vipps refused the keys for this sales unit (HTTP 403)");
    }
    if (status < 400) {
      return new Verdict(
          Meaning.AMBIGUOUS, null, null, "unexpected HTTP " + status + " from Vipps");
    }
    return api == VippsApi.ECOM ? ecom(status, body) : epayment(status, body);
  }

  private static Verdict epayment(int status, Buffer body) {
    String type = problemType(body);
    if (type == null) {
      return azureOrAmbiguous(status, body);
    }
    Known known = EPAYMENT.get(type);
    if (known != null) {
      return new Verdict(
          known.meaning(),
          known.reason(),
          type,
          "Vipps: " + known.text() + " (HTTP " + status + ", type " + type + ")");
    }
    return unknownCode(status, type, "problem type");
  }

  private static Verdict ecom(int status, Buffer body) {
    JsonObject first = firstEcomError(body);
    if (first == null) {
      return azureOrAmbiguous(status, body);
    }
    String code = String.valueOf(first.getValue("errorCode"));
    String group = first.getValue("errorGroup") instanceof String g ? g : "";
    Known known = ECOM.get(code);
    if (known != null) {
      return new Verdict(
          known.meaning(),
          known.reason(),
          code,
          "Vipps: " + known.text() + " (HTTP " + status + ", errorCode " + code + ")");
    }
    if (group.equalsIgnoreCase("Authentication")) {
      return new Verdict(
          Meaning.REJECTED,
          RejectReason.BAD_CREDENTIALS,
          code,
          "Vipps refused the keys (HTTP " + status + ", errorGroup Authentication)");
    }
    if (group.equalsIgnoreCase("InvalidRequest")) {
      return new Verdict(
          Meaning.REJECTED,
          RejectReason.INVALID_REQUEST,
          code,
          "Vipps found the request invalid (HTTP " + status + ", field " + safe(code) + ")");
    }
    return unknownCode(status, code, "errorCode");
  }

  private static Verdict unknownCode(int status, String code, String what) {
    String detail = "Vipps answered HTTP " + status + " with " + what + " " + safe(code);
    if (status == 409) {
      return new Verdict(Meaning.TRANSIENT, null, code, detail);
    }
    if (status == 404) {
      return new Verdict(Meaning.REJECTED, RejectReason.REFERENCE_NOT_FOUND, code, detail);
    }
    if (status == 422) {
      return new Verdict(Meaning.REJECTED, RejectReason.INVALID_REQUEST, code, detail);
    }
    return new Verdict(Meaning.REJECTED, RejectReason.OTHER, code, detail);
  }

  private static Verdict azureOrAmbiguous(int status, Buffer body) {
    JsonObject json = object(body);
    boolean azure =
        json != null
            && (json.getValue("statusCode") instanceof Number
                || json.getValue("responseInfo") instanceof JsonObject);
    if (azure) {
      RejectReason reason = status == 404 ? RejectReason.OTHER : RejectReason.INVALID_REQUEST;
      return new Verdict(
          Meaning.REJECTED,
          reason,
          null,
          "Vipps API gateway answered HTTP " + status + " (check VIPPS_BASE_URL and the keys)");
    }
    return new Verdict(
        Meaning.AMBIGUOUS,
        null,
        null,
        "HTTP " + status + " without a readable Vipps error body; treated as unknown");
  }

  /** The identifying segment of an ePayment problem's {@code type}, lower-cased, or null. */
  static String problemType(Buffer body) {
    JsonObject json = object(body);
    if (json == null || !(json.getValue("type") instanceof String type) || type.isBlank()) {
      return null;
    }
    String id = type.trim();
    int hash = id.lastIndexOf('#');
    if (hash >= 0) {
      id = id.substring(hash + 1);
    } else {
      int slash = id.replaceAll("/+$", "").lastIndexOf('/');
      id = slash >= 0 ? id.replaceAll("/+$", "").substring(slash + 1) : id;
    }
    return id.isBlank() ? null : id.toLowerCase(Locale.ROOT);
  }

  private static String ecomCode(Buffer body) {
    JsonObject first = firstEcomError(body);
    return first == null ? null : String.valueOf(first.getValue("errorCode"));
  }

  private static JsonObject firstEcomError(Buffer body) {
    Object parsed = parse(body);
    if (parsed instanceof JsonArray array
        && !array.isEmpty()
        && array.getValue(0) instanceof JsonObject first
        && first.getValue("errorCode") != null) {
      return first;
    }
    return null;
  }

  private static JsonObject object(Buffer body) {
    return parse(body) instanceof JsonObject json ? json : null;
  }

  /** The JSON value of a body, or null when it is empty or not JSON. */
  static Object parse(Buffer body) {
    if (body == null || body.length() == 0) {
      return null;
    }
    try {
      return Json.decodeValue(body);
    } catch (DecodeException e) {
      return null;
    }
  }

  private static String suffix(String code) {
    return code == null ? "" : " (" + safe(code) + ")";
  }

  /** Upstream identifiers are short tokens; anything else is cut, never echoed at length. */
  private static String safe(String code) {
    if (code == null) {
      return "-";
    }
    String cleaned = code.replaceAll("[^A-Za-z0-9._-]", "");
    return cleaned.length() > 60 ? cleaned.substring(0, 60) : cleaned;
  }
}

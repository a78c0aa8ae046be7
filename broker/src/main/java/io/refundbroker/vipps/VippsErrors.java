package io.refundbroker.vipps;

import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.vipps.RefundOutcome.RejectReason;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
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
 *
 * <p>The rules above are shared; each flavour reads its own error bodies ({@link Dialect}): the
 * ePayment problem types are in {@link EpaymentFlavour}, the eCom errorCodes in {@link
 * EcomFlavour}.
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

  /**
   * How one flavour's error bodies read: each API flavour answers 4xx in its own format (ePayment
   * problem types, eCom error arrays), so the flavour reads its own; the rules above are shared.
   */
  interface Dialect {
    /** The error identifier in {@code body} (problem type segment / eCom errorCode), or null. */
    String errorCode(Buffer body);

    /** The reading of a 4xx other than 401/403/408/423/425/429 in this flavour's format. */
    Verdict clientError(int status, Buffer body);
  }

  /**
   * A known error identifier of one flavour.
   *
   * @param meaning what it means
   * @param reason for {@link Meaning#REJECTED}, why
   * @param text our own description of it
   */
  record Known(Meaning meaning, RejectReason reason, String text) {

    /** The verdict for an answer with this identifier ({@code what}: "type", "errorCode"). */
    Verdict verdict(int status, String code, String what) {
      return new Verdict(
          meaning,
          reason,
          code,
          "Vipps: " + text + " (HTTP " + status + ", " + what + " " + code + ")");
    }
  }

  private VippsErrors() {}

  /** A definitive rejection, as a table entry of a flavour's error identifiers. */
  static Map.Entry<String, Known> rejected(String id, RejectReason reason, String text) {
    return Map.entry(id, new Known(Meaning.REJECTED, reason, text));
  }

  /** A non-rejection ({@code TRANSIENT}, {@code AMBIGUOUS}), as a table entry. */
  static Map.Entry<String, Known> known(String id, Meaning meaning, String text) {
    return Map.entry(id, new Known(meaning, null, text));
  }

  /** Classifies a non-2xx answer from an {@code api} endpoint (in that flavour's dialect). */
  static Verdict classify(VippsApi api, int status, Buffer body) {
    return classify(Flavour.of(api), status, body);
  }

  /**
   * Classifies a non-2xx answer read in {@code dialect} (the access-token endpoint is read in
   * ePayment's).
   */
  static Verdict classify(Dialect dialect, int status, Buffer body) {
    if (status == 401) {
      return new Verdict(
          Meaning.UNAUTHORIZED, null, null, "Vipps refused the access token or keys (HTTP 401)");
    }
    if (status == 408 || status == 423 || status == 425 || status == 429 || status >= 500) {
      String code = dialect.errorCode(body);
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
    return dialect.clientError(status, body);
  }

  /** An identifier the flavour's table does not know, read by its HTTP status. */
  static Verdict unknownCode(int status, String code, String what) {
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

  /** A 4xx without the flavour's error body: an API-gateway error, else ambiguous. */
  static Verdict azureOrAmbiguous(int status, Buffer body) {
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

  /** The JSON object of a body, or null. */
  static JsonObject object(Buffer body) {
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
  static String safe(String code) {
    if (code == null) {
      return "-";
    }
    String cleaned = code.replaceAll("[^A-Za-z0-9._-]", "");
    return cleaned.length() > 60 ? cleaned.substring(0, 60) : cleaned;
  }
}

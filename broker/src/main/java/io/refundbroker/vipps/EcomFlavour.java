package io.refundbroker.vipps;

import static io.refundbroker.vipps.VippsErrors.known;
import static io.refundbroker.vipps.VippsErrors.rejected;

import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.vipps.RefundOutcome.RejectReason;
import io.refundbroker.vipps.VippsErrors.Known;
import io.refundbroker.vipps.VippsErrors.Meaning;
import io.refundbroker.vipps.VippsErrors.Verdict;
import io.refundbroker.vipps.VippsTransport.Operation;
import io.refundbroker.vipps.VippsTransport.Request;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The eCom API v2 (Vipps only, legacy integrations): {@code /ecomm/v2/payments/{orderId}…}, {@code
 * X-Request-Id} (≤ 40), orderIds of {@code [a-zA-Z0-9-]{1,50}}, refunds in NOK of at least 100 øre
 * with a {@code transactionText} of at most 100 characters, the MSN also in the body ({@code
 * merchantInfo.merchantSerialNumber}, 5-6 digits), errors as arrays with an {@code errorCode}.
 * Stateless.
 */
final class EcomFlavour implements Flavour {
  static final EcomFlavour INSTANCE = new EcomFlavour();

  private static final Pattern ORDER_ID = Pattern.compile("[a-zA-Z0-9-]{1,50}");
  private static final Pattern BODY_MSN = Pattern.compile("[0-9]{5,6}");
  private static final long MIN_AMOUNT = 100L;
  private static final int TEXT_MAX = 100;
  private static final int KEY_MAX = 40;

  /** Refund errorCodes (vipps-ecom-api.md, Error codes). */
  private static final Map<String, Known> ERRORS =
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
          known("92", Meaning.AMBIGUOUS, "the transaction was already processed"),
          known("94", Meaning.TRANSIENT, "the order is locked"),
          known("98", Meaning.TRANSIENT, "too many concurrent requests"),
          known("99", Meaning.TRANSIENT, "Vipps internal error"));

  private static final Limits LIMITS =
      new Limits(VippsApi.ECOM, "/ecomm/v2/payments/", ORDER_ID, "1-50", KEY_MAX);

  private EcomFlavour() {}

  @Override
  public Limits limits() {
    return LIMITS;
  }

  @Override
  public String refusal(RefundCall call) {
    if (!BODY_MSN.matcher(call.keys().msn()).matches()) {
      return "eCom refunds need a 5-6 digit MSN (merchantInfo.merchantSerialNumber); switch this"
          + " store to the ePayment API";
    }
    if (!ORDER_ID.matcher(call.reference()).matches()) {
      return "the eCom orderId must be 1-50 characters of a-z, A-Z, 0-9 and '-'";
    }
    Money amount = call.amount();
    if (!"NOK".equals(amount.currency()) || amount.value() < MIN_AMOUNT) {
      return "eCom refunds are in NOK and at least 100 øre (1 NOK)";
    }
    return null;
  }

  @Override
  public Request refund(RefundCall call, MultiMap headers) {
    headers.set(VippsHeaders.REQUEST_ID, call.idempotencyKey());
    headers.set("Content-Type", "application/json;charset=UTF-8");
    Buffer body =
        new JsonObject()
            .put("merchantInfo", new JsonObject().put("merchantSerialNumber", call.keys().msn()))
            .put(
                "transaction",
                new JsonObject()
                    .put("amount", call.amount().value())
                    .put("transactionText", transactionText(call)))
            .toBuffer();
    return request(Operation.REFUND, HttpMethod.POST, call.reference(), "/refund", headers, body);
  }

  /** The eCom text: the caller's, else a default; at most 100 characters, the same every retry. */
  private static String transactionText(RefundCall call) {
    String text = call.text();
    if (text == null || text.isBlank()) {
      text = "Refund for order " + call.reference();
    }
    text = text.strip();
    if (text.codePointCount(0, text.length()) > TEXT_MAX) {
      text = text.substring(0, text.offsetByCodePoints(0, TEXT_MAX));
    }
    return text;
  }

  @Override
  public Request paymentRead(String reference, MultiMap headers) {
    return details(reference, headers);
  }

  @Override
  public PaymentSnapshot payment(String reference, Buffer body) {
    JsonObject details = new JsonObject(body);
    JsonObject summary = details.getJsonObject("transactionSummary");
    long captured = summary == null ? 0 : summary.getLong("capturedAmount");
    long refunded = summary == null ? 0 : summary.getLong("refundedAmount");
    Instant capturedAt = null;
    JsonArray log = details.getJsonArray("transactionLogHistory", new JsonArray());
    // The log is newest first: the last successful capture in it is the first one made.
    for (int i = 0; i < log.size(); i++) {
      JsonObject entry = log.getJsonObject(i);
      String op = entry.getString("operation", "");
      if ((op.equals("CAPTURE") || op.equals("SALE"))
          && Boolean.TRUE.equals(entry.getBoolean("operationSuccess"))) {
        Instant at = timestamp(entry.getString("timeStamp"));
        capturedAt = at != null ? at : capturedAt;
      }
    }
    return new PaymentSnapshot(
        reference, new Money(captured, "NOK"), new Money(refunded, "NOK"), capturedAt);
  }

  /** eCom timestamps are ISO-8601, sometimes without an offset (Vipps servers use UTC). */
  private static Instant timestamp(String text) {
    if (text == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      try {
        return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException again) {
        return null;
      }
    }
  }

  @Override
  public Request refundLogRead(String reference, MultiMap headers) {
    return details(reference, headers);
  }

  @Override
  public boolean refundLogged(Buffer body, String key) {
    JsonArray log = new JsonObject(body).getJsonArray("transactionLogHistory", new JsonArray());
    return Flavour.logged(log, "operation", "REFUND", "operationSuccess", "requestId", key);
  }

  /** eCom has one read for both: the order's details with its transaction history. */
  private Request details(String reference, MultiMap headers) {
    return request(Operation.DETAILS, HttpMethod.GET, reference, "/details", headers, null);
  }

  @Override
  public String errorCode(Buffer body) {
    JsonObject first = firstError(body);
    return first == null ? null : String.valueOf(first.getValue("errorCode"));
  }

  @Override
  public Verdict clientError(int status, Buffer body) {
    JsonObject first = firstError(body);
    if (first == null) {
      return VippsErrors.azureOrAmbiguous(status, body);
    }
    String code = String.valueOf(first.getValue("errorCode"));
    String group = first.getValue("errorGroup") instanceof String g ? g : "";
    Known known = ERRORS.get(code);
    if (known != null) {
      return known.verdict(status, code, "errorCode");
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
          "Vipps found the request invalid (HTTP "
              + status
              + ", field "
              + VippsErrors.safe(code)
              + ")");
    }
    return VippsErrors.unknownCode(status, code, "errorCode");
  }

  private static JsonObject firstError(Buffer body) {
    Object parsed = VippsErrors.parse(body);
    if (parsed instanceof JsonArray array
        && !array.isEmpty()
        && array.getValue(0) instanceof JsonObject first
        && first.getValue("errorCode") != null) {
      return first;
    }
    return null;
  }
}

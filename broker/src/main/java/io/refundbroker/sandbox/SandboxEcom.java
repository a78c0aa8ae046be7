package io.refundbroker.sandbox;

import static io.refundbroker.sandbox.SandboxAnswer.ecomError;

import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.SandboxLedger.Event;
import io.refundbroker.sandbox.SandboxLedger.Payment;
import io.refundbroker.sandbox.SandboxLedger.Stored;
import io.refundbroker.sandbox.SandboxTokens.IssuedToken;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The sandbox's eCom API v2, written from the eCom spec and its error-code list (independently of
 * the broker's client, which it checks): {@code X-Request-Id} of at most 40 characters, orderIds of
 * {@code [a-zA-Z0-9-]{1,50}}, the body's {@code merchantSerialNumber} must be the token's MSN (a
 * string: a JSON number, like a non-integer amount, is an HTTP 500 errorCode 99, as Vipps
 * documents), a {@code transactionText} of at most 100 characters, amounts of at least 100 øre,
 * refunds within 365 days of the capture, only eCom payments (not ePayment ones).
 *
 * <p>Thread-safety: none of its own; it is only used under {@link SandboxVipps}'s lock.
 */
final class SandboxEcom {
  private static final Pattern ORDER_ID = Pattern.compile("[a-zA-Z0-9-]{1,50}");
  private static final int REQUEST_ID_MAX = 40;
  private static final int TEXT_MAX = 100;
  private static final long MIN_AMOUNT = 100L;

  /** A refund body's transaction, or the answer that refuses it. */
  private record Transaction(long amount, String text, SandboxAnswer invalid) {
    static Transaction invalid(SandboxAnswer answer) {
      return new Transaction(0, null, answer);
    }
  }

  private final SandboxTokens tokens;
  private final SandboxLedger ledger;

  SandboxEcom(SandboxTokens tokens, SandboxLedger ledger) {
    this.tokens = tokens;
    this.ledger = ledger;
  }

  /** {@code POST /ecomm/v2/payments/{orderId}/refund}. */
  SandboxAnswer refund(String orderId, MultiMap headers, Buffer raw) {
    IssuedToken token = tokens.authorize(headers);
    if (token == null) {
      return tokens.refusal(headers);
    }
    String requestId = headers.get(VippsHeaders.REQUEST_ID);
    SandboxAnswer invalid = checkRequest(requestId, orderId);
    if (invalid != null) {
      return invalid;
    }
    if (ledger.rateLimited(token.msn(), orderId)) {
      return SandboxAnswer.tooManyRequests();
    }
    JsonObject body = SandboxAnswer.object(raw);
    Transaction transaction = transaction(body, token);
    if (transaction.invalid() != null) {
      return transaction.invalid();
    }
    Payment payment = ecomPayment(token.msn(), orderId);
    if (payment == null) {
      return notFound(orderId, token.msn());
    }
    Stored stored = payment.stored(VippsApi.ECOM, requestId);
    if (stored != null) {
      return stored.request().equals(body) ? stored.answer() : idempotencyConflict();
    }
    Instant now = ledger.now();
    SandboxAnswer refused = refusal(payment, transaction.amount(), now);
    if (refused != null) {
      return refused;
    }
    Event event =
        ledger.apply(
            payment,
            VippsApi.ECOM,
            transaction.amount(),
            requestId,
            token,
            transaction.text(),
            now);
    SandboxAnswer answer = refunded(orderId, payment, event);
    payment.store(VippsApi.ECOM, requestId, body, answer);
    return answer;
  }

  private static SandboxAnswer checkRequest(String requestId, String orderId) {
    if (requestId == null || requestId.isBlank() || requestId.length() > REQUEST_ID_MAX) {
      return ecomError(
          400,
          "InvalidRequest",
          "X-Request-Id",
          "X-Request-Id is required and must be at most 40 characters");
    }
    if (!ORDER_ID.matcher(orderId).matches()) {
      return ecomError(
          400,
          "InvalidRequest",
          "orderId",
          "orderId must be 1-50 characters of a-z, A-Z, 0-9 and '-'");
    }
    return null;
  }

  /** The body's MSN (the token's), text and amount. */
  private static Transaction transaction(JsonObject body, IssuedToken token) {
    if (body == null) {
      return Transaction.invalid(
          ecomError(400, "InvalidRequest", "body", "The body must be a JSON object"));
    }
    JsonObject merchantInfo =
        body.getValue("merchantInfo") instanceof JsonObject m ? m : new JsonObject();
    JsonObject transaction =
        body.getValue("transaction") instanceof JsonObject t ? t : new JsonObject();
    Object msn = merchantInfo.getValue("merchantSerialNumber");
    Object rawAmount = transaction.getValue("amount");
    if ((msn != null && !(msn instanceof String))
        || (rawAmount != null && !(rawAmount instanceof Integer || rawAmount instanceof Long))) {
      // Vipps documents these two as unvalidated: they end as internal errors.
      return Transaction.invalid(ecomError(500, "VippsError", "99", "Internal error"));
    }
    if (msn == null) {
      return Transaction.invalid(
          ecomError(
              400,
              "InvalidRequest",
              "merchantSerialNumber",
              "merchantInfo.merchantSerialNumber is required"));
    }
    if (!msn.equals(token.msn())) {
      return Transaction.invalid(SandboxAnswer.unauthorized());
    }
    String text = transaction.getValue("transactionText") instanceof String s ? s : null;
    if (text == null || text.isBlank() || text.length() > TEXT_MAX) {
      return Transaction.invalid(
          ecomError(
              400,
              "InvalidRequest",
              "transactionText",
              "transaction.transactionText is required (at most 100 characters)"));
    }
    if (rawAmount == null || ((Number) rawAmount).longValue() < MIN_AMOUNT) {
      return Transaction.invalid(
          ecomError(
              400,
              "InvalidRequest",
              "amount",
              "transaction.amount is required and at least 100 øre"));
    }
    return new Transaction(((Number) rawAmount).longValue(), text, null);
  }

  /** Why the order cannot be refunded by {@code amount} now, or null. */
  private static SandboxAnswer refusal(Payment payment, long amount, Instant now) {
    if (now.isAfter(payment.seed().capturedAt().plus(SandboxLedger.REFUND_WINDOW))) {
      return ecomError(400, "Payment", "95", "Refund older than 365 days");
    }
    if (payment.captured() == 0) {
      return ecomError(400, "Payment", "72", "Cannot refund a reserved order; cancel it instead");
    }
    if (amount > payment.captured() - payment.refunded()) {
      return ecomError(
          400, "Payment", "71", "Cannot refund a higher amount than the captured amount");
    }
    return null;
  }

  private static SandboxAnswer idempotencyConflict() {
    return ecomError(
        400,
        "Payment",
        "93",
        "The refund request must be identical to the previous request(s) in an idempotent"
            + " retry");
  }

  private static SandboxAnswer refunded(String orderId, Payment payment, Event event) {
    JsonObject response =
        new JsonObject()
            .put("orderId", orderId)
            .put(
                "transaction",
                new JsonObject()
                    .put("amount", event.amount())
                    .put("transactionText", event.text())
                    .put("status", "Refund")
                    .put("transactionId", event.transactionId())
                    .put("timeStamp", event.at().toString()))
            .put("transactionSummary", summary(payment));
    return SandboxAnswer.json(200, SandboxAnswer.JSON_UTF8, response);
  }

  /** {@code GET /ecomm/v2/payments/{orderId}/details}. */
  SandboxAnswer details(String orderId, MultiMap headers) {
    IssuedToken token = tokens.authorize(headers);
    if (token == null) {
      return tokens.refusal(headers);
    }
    Payment payment = ecomPayment(token.msn(), orderId);
    if (payment == null) {
      return notFound(orderId, token.msn());
    }
    JsonArray log = new JsonArray();
    List<Event> events = payment.events();
    for (int i = events.size() - 1; i >= 0; i--) {
      log.add(logEntry(events.get(i)));
    }
    JsonObject body =
        new JsonObject()
            .put("orderId", orderId)
            .put("transactionSummary", summary(payment))
            .put("transactionLogHistory", log);
    return SandboxAnswer.json(200, SandboxAnswer.JSON_UTF8, body);
  }

  private static JsonObject logEntry(Event event) {
    JsonObject entry =
        new JsonObject()
            .put("amount", event.amount())
            .put("operation", operation(event.name()))
            .put("operationSuccess", true)
            .put("timeStamp", event.at().toString())
            .put("transactionId", event.transactionId())
            .put("transactionText", event.text() == null ? "Refund" : event.text());
    if (event.key() != null) {
      entry.put("requestId", event.key());
    }
    return entry;
  }

  /** eCom reaches only payments initiated through eCom. */
  private Payment ecomPayment(String msn, String orderId) {
    Payment payment = ledger.find(msn, orderId);
    return payment == null || payment.seed().api() != VippsApi.ECOM ? null : payment;
  }

  private static String operation(String eventName) {
    return switch (eventName) {
      case "CREATED" -> "INITIATE";
      case "AUTHORIZED" -> "RESERVE";
      case "CAPTURED" -> "CAPTURE";
      case "REFUNDED" -> "REFUND";
      default -> eventName;
    };
  }

  private static JsonObject summary(Payment payment) {
    return new JsonObject()
        .put("capturedAmount", payment.captured())
        .put("remainingAmountToCapture", 0)
        .put("refundedAmount", payment.refunded())
        .put("remainingAmountToRefund", payment.captured() - payment.refunded());
  }

  private static SandboxAnswer notFound(String orderId, String msn) {
    return ecomError(
        404, "Merchant", "35", "orderId " + orderId + " does not exist for MSN " + msn);
  }
}

package io.refundbroker.sandbox;

import static io.refundbroker.sandbox.SandboxAnswer.problem;

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
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The sandbox's ePayment API v1, written from the ePayment spec and FAQ (independently of the
 * broker's client, which it checks): {@code Merchant-Serial-Number} required, references of {@code
 * [a-zA-Z0-9-]{8,50}}, {@code Idempotency-Key} of at most 50 characters, amounts in minor units
 * (0-65000000, NOK/DKK/EUR, the payment's currency), refunds within 365 days of the reservation,
 * problems identified by their {@code type}. ePayment can refund eCom payments too.
 *
 * <p>Thread-safety: none of its own; it is only used under {@link SandboxVipps}'s lock.
 */
final class SandboxEpayment {
  private static final Pattern REFERENCE = Pattern.compile("[a-zA-Z0-9-]{8,50}");
  private static final Set<String> CURRENCIES = Set.of("NOK", "DKK", "EUR");
  private static final long MAX_AMOUNT = 65_000_000L;
  private static final int KEY_MAX = 50;

  /** A refund body's {@code modificationAmount}, or the answer that refuses it. */
  private record Amount(long value, String currency, SandboxAnswer invalid) {
    static Amount invalid(SandboxAnswer answer) {
      return new Amount(0, null, answer);
    }
  }

  /** A payment an ePayment call may see, or the answer that refuses the call. */
  private record Found(IssuedToken token, Payment payment, SandboxAnswer error) {}

  private final SandboxTokens tokens;
  private final SandboxLedger ledger;

  SandboxEpayment(SandboxTokens tokens, SandboxLedger ledger) {
    this.tokens = tokens;
    this.ledger = ledger;
  }

  /** {@code POST /epayment/v1/payments/{reference}/refund}. */
  SandboxAnswer refund(String reference, MultiMap headers, Buffer raw) {
    IssuedToken token = tokens.authorize(headers);
    if (token == null) {
      return tokens.refusal(headers);
    }
    String key = headers.get(VippsHeaders.IDEMPOTENCY_KEY);
    SandboxAnswer invalid = common(reference, headers);
    invalid = invalid != null ? invalid : checkKey(key);
    if (invalid != null) {
      return invalid;
    }
    if (ledger.rateLimited(token.msn(), reference)) {
      return SandboxAnswer.tooManyRequests();
    }
    JsonObject body = SandboxAnswer.object(raw);
    Amount amount = amount(body);
    if (amount.invalid() != null) {
      return amount.invalid();
    }
    Payment payment = ledger.find(token.msn(), reference);
    if (payment == null) {
      return referenceNotFound(reference, token.msn());
    }
    Stored stored = payment.stored(VippsApi.EPAYMENT, key);
    if (stored != null) {
      return stored.request().equals(body) ? stored.answer() : idempotencyConflict();
    }
    Instant now = ledger.now();
    SandboxAnswer refused = refusal(payment, amount, now);
    if (refused != null) {
      return refused;
    }
    ledger.apply(payment, VippsApi.EPAYMENT, amount.value(), key, token, null, now);
    SandboxAnswer answer =
        SandboxAnswer.json(
            200,
            SandboxAnswer.JSON,
            new JsonObject()
                .put("amount", amount(amount.value(), amount.currency()))
                .put("state", "AUTHORIZED")
                .put("aggregate", aggregate(payment))
                .put("pspReference", payment.pspReference())
                .put("reference", reference));
    payment.store(VippsApi.EPAYMENT, key, body, answer);
    return answer;
  }

  private static SandboxAnswer checkKey(String key) {
    if (key == null || key.isBlank()) {
      return problem(
          400,
          "missing-required-parameter",
          "Missing required parameter",
          "The parameter Idempotency-Key is required");
    }
    if (key.length() > KEY_MAX) {
      return problem(
          400,
          "validation-error",
          "Validation error",
          "Idempotency-Key must be at most 50 characters");
    }
    return null;
  }

  /** The body's {@code modificationAmount}: integer minor units, a known currency, in range. */
  private static Amount amount(JsonObject body) {
    JsonObject amount =
        body != null && body.getValue("modificationAmount") instanceof JsonObject a ? a : null;
    if (amount == null) {
      return Amount.invalid(
          problem(
              400,
              "validation-error",
              "Validation error",
              "The body must be a JSON object with modificationAmount"));
    }
    Object rawValue = amount.getValue("value");
    if (!(rawValue instanceof Integer || rawValue instanceof Long)) {
      return Amount.invalid(
          problem(
              400,
              "amount-invalid",
              "Amount invalid",
              "The amount is invalid. Amounts must be integers in minor units"));
    }
    long value = ((Number) rawValue).longValue();
    String currency = amount.getValue("currency") instanceof String c ? c : null;
    if (currency == null || !CURRENCIES.contains(currency) || value < 0 || value > MAX_AMOUNT) {
      return Amount.invalid(
          problem(
              400,
              "validation-error",
              "Validation error",
              "modificationAmount needs a currency (NOK, DKK, EUR) and a value of 0-65000000"));
    }
    return new Amount(value, currency, null);
  }

  /** Why the payment cannot be refunded by {@code amount} now, or null. */
  private static SandboxAnswer refusal(Payment payment, Amount amount, Instant now) {
    if (!amount.currency().equals(payment.currency())) {
      return problem(
          400,
          "validation-error",
          "Validation error",
          "The currency must be the payment's currency");
    }
    if (amount.value() < 1) {
      return problem(400, "amount-too-small", "Amount too small", "The amount is too small");
    }
    if (now.isAfter(payment.seed().createdAt().plus(SandboxLedger.REFUND_WINDOW))) {
      return problem(
          400,
          "refund-period-expired",
          "Refund period expired",
          "Payments can only be refunded within 365 days of the reservation");
    }
    if (payment.captured() == 0) {
      return problem(
          400,
          "attempted-refund-before-reservation",
          "Attempted refund before reservation",
          "Cannot refund a payment that is not captured");
    }
    if (payment.refunded() >= payment.captured()) {
      return problem(
          400,
          "payment-already-refunded",
          "Payment already refunded",
          "Cannot refund a payment that has already been refunded");
    }
    if (amount.value() > payment.captured() - payment.refunded()) {
      return problem(
          400,
          "not-enough-refundable",
          "Not enough refundable",
          "Cannot refund more than the available amount");
    }
    return null;
  }

  private static SandboxAnswer idempotencyConflict() {
    return problem(
        409,
        "refund-idempotency-conflict",
        "Refund idempotency conflict",
        "The request in an idempotent retry must be identical to the previous request(s)");
  }

  /** {@code GET /epayment/v1/payments/{reference}}. */
  SandboxAnswer payment(String reference, MultiMap headers) {
    Found found = find(reference, headers);
    if (found.error() != null) {
      return found.error();
    }
    Payment payment = found.payment();
    JsonObject body =
        new JsonObject()
            .put("aggregate", aggregate(payment))
            .put("amount", amount(payment.captured(), payment.currency()))
            .put("state", "AUTHORIZED")
            .put("paymentMethod", new JsonObject().put("type", "WALLET"))
            .put("profile", new JsonObject())
            .put("pspReference", payment.pspReference())
            .put("reference", reference);
    return SandboxAnswer.json(200, SandboxAnswer.JSON, body);
  }

  /** {@code GET /epayment/v1/payments/{reference}/events}. */
  SandboxAnswer events(String reference, MultiMap headers) {
    Found found = find(reference, headers);
    if (found.error() != null) {
      return found.error();
    }
    Payment payment = found.payment();
    JsonArray events = new JsonArray();
    for (Event event : payment.events()) {
      events.add(
          new JsonObject()
              .put("reference", reference)
              .put("pspReference", payment.pspReference())
              .put("name", event.name())
              .put("amount", amount(event.amount(), payment.currency()))
              .put("timestamp", event.at().toString())
              .put("idempotencyKey", event.key())
              .put("success", true));
    }
    return SandboxAnswer.json(200, SandboxAnswer.JSON, events);
  }

  private Found find(String reference, MultiMap headers) {
    IssuedToken token = tokens.authorize(headers);
    if (token == null) {
      return new Found(null, null, tokens.refusal(headers));
    }
    SandboxAnswer invalid = common(reference, headers);
    if (invalid != null) {
      return new Found(token, null, invalid);
    }
    Payment payment = ledger.find(token.msn(), reference);
    return payment == null
        ? new Found(token, null, referenceNotFound(reference, token.msn()))
        : new Found(token, payment, null);
  }

  /** Checks shared by every ePayment endpoint: the MSN header and the reference's form. */
  private static SandboxAnswer common(String reference, MultiMap headers) {
    if (headers.get(VippsHeaders.MSN) == null) {
      return problem(
          400,
          "missing-required-parameter",
          "Missing required parameter",
          "The parameter Merchant-Serial-Number is required");
    }
    if (!REFERENCE.matcher(reference).matches()) {
      return problem(
          400,
          "validation-error",
          "Validation error",
          "reference must be 8-50 characters of a-z, A-Z, 0-9 and '-'");
    }
    return null;
  }

  private static SandboxAnswer referenceNotFound(String reference, String msn) {
    return problem(
        404,
        "reference-not-found",
        "Reference not found",
        "The reference " + reference + " does not exist for MSN " + msn);
  }

  private static JsonObject aggregate(Payment payment) {
    String currency = payment.currency();
    return new JsonObject()
        .put("authorizedAmount", amount(payment.captured(), currency))
        .put("cancelledAmount", amount(0, currency))
        .put("capturedAmount", amount(payment.captured(), currency))
        .put("refundedAmount", amount(payment.refunded(), currency));
  }

  private static JsonObject amount(long value, String currency) {
    return new JsonObject().put("currency", currency).put("value", value);
  }
}

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
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The ePayment API v1: {@code /epayment/v1/payments/{reference}…}, {@code Idempotency-Key} (≤ 50),
 * references of {@code [a-zA-Z0-9-]{8,50}}, amounts of 1-65000000 minor units in the payment's
 * currency, errors as {@code application/problem+json} identified by their {@code type}. Stateless.
 */
final class EpaymentFlavour implements Flavour {
  static final EpaymentFlavour INSTANCE = new EpaymentFlavour();

  private static final Pattern REFERENCE = Pattern.compile("[a-zA-Z0-9-]{8,50}");
  private static final long MAX_AMOUNT = 65_000_000L;
  private static final int KEY_MAX = 50;

  /** Problem type identifiers (kebab-case FAQ titles; see {@link VippsErrors}). */
  private static final Map<String, Known> ERRORS =
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
          known("order-processing", Meaning.TRANSIENT, "the payment is being processed"),
          known(
              "idempotency-error",
              Meaning.AMBIGUOUS,
              "the idempotency key already exists at Vipps"),
          known("internal-error", Meaning.TRANSIENT, "Vipps reported an error"));

  private static final Limits LIMITS =
      new Limits(VippsApi.EPAYMENT, "/epayment/v1/payments/", REFERENCE, "8-50", KEY_MAX);

  private EpaymentFlavour() {}

  @Override
  public Limits limits() {
    return LIMITS;
  }

  @Override
  public String refusal(RefundCall call) {
    if (!REFERENCE.matcher(call.reference()).matches()) {
      return "the ePayment reference must be 8-50 characters of a-z, A-Z, 0-9 and '-'; a shorter"
          + " eCom orderId must be refunded through the eCom API";
    }
    long value = call.amount().value();
    if (value < 1 || value > MAX_AMOUNT) {
      return "ePayment refunds must be between 1 and 65000000 minor units";
    }
    return null;
  }

  @Override
  public Request refund(RefundCall call, MultiMap headers) {
    headers.set(VippsHeaders.IDEMPOTENCY_KEY, call.idempotencyKey());
    headers.set("Content-Type", "application/json");
    Buffer body =
        new JsonObject()
            .put(
                "modificationAmount",
                new JsonObject()
                    .put("currency", call.amount().currency())
                    .put("value", call.amount().value()))
            .toBuffer();
    return request(Operation.REFUND, HttpMethod.POST, call.reference(), "/refund", headers, body);
  }

  @Override
  public Request paymentRead(String reference, MultiMap headers) {
    return request(Operation.GET_PAYMENT, HttpMethod.GET, reference, "", headers, null);
  }

  @Override
  public PaymentSnapshot payment(String reference, Buffer body) {
    JsonObject aggregate = new JsonObject(body).getJsonObject("aggregate");
    return new PaymentSnapshot(
        reference,
        Money.fromJson(aggregate.getJsonObject("capturedAmount")),
        Money.fromJson(aggregate.getJsonObject("refundedAmount")),
        null);
  }

  @Override
  public Request refundLogRead(String reference, MultiMap headers) {
    return request(Operation.EVENT_LOG, HttpMethod.GET, reference, "/events", headers, null);
  }

  @Override
  public boolean refundLogged(Buffer body, String key) {
    return Flavour.logged(
        new JsonArray(body), "name", "REFUNDED", "success", "idempotencyKey", key);
  }

  @Override
  public String errorCode(Buffer body) {
    return VippsErrors.problemType(body);
  }

  @Override
  public Verdict clientError(int status, Buffer body) {
    String type = VippsErrors.problemType(body);
    if (type == null) {
      return VippsErrors.azureOrAmbiguous(status, body);
    }
    Known known = ERRORS.get(type);
    return known != null
        ? known.verdict(status, type, "type")
        : VippsErrors.unknownCode(status, type, "problem type");
  }
}

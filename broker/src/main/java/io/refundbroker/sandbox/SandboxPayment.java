package io.refundbroker.sandbox;

import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import java.time.Instant;
import java.util.Objects;

/**
 * A payment to seed into the sandbox: reserved at {@code createdAt} and captured at {@code
 * capturedAt}.
 *
 * @param msn the sales unit it was made in
 * @param reference ePayment reference / eCom orderId (unique per MSN only)
 * @param api the API it was initiated with (eCom payments can also be refunded through ePayment,
 *     never the other way round)
 * @param captured the captured amount (0 = only reserved)
 * @param createdAt when it was created and reserved
 * @param capturedAt when it was captured
 */
public record SandboxPayment(
    String msn,
    String reference,
    VippsApi api,
    Money captured,
    Instant createdAt,
    Instant capturedAt) {

  public SandboxPayment {
    Objects.requireNonNull(msn, "msn");
    Objects.requireNonNull(reference, "reference");
    Objects.requireNonNull(api, "api");
    Objects.requireNonNull(captured, "captured");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(capturedAt, "capturedAt");
    if (!reference.matches("[a-zA-Z0-9-]{1,50}")) {
      throw new IllegalArgumentException("reference must be 1-50 characters of a-z, A-Z, 0-9, -");
    }
    if (api == VippsApi.ECOM && !captured.currency().equals("NOK")) {
      throw new IllegalArgumentException("eCom payments are in NOK");
    }
  }

  /** A payment captured {@code at} (created at the same moment). */
  public static SandboxPayment captured(
      String msn, String reference, VippsApi api, Money amount, Instant at) {
    return new SandboxPayment(msn, reference, api, amount, at, at);
  }
}

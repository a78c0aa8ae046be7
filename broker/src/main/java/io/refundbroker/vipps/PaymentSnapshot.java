package io.refundbroker.vipps;

import io.refundbroker.money.Money;
import java.time.Instant;

/**
 * A payment as Vipps reports it now (ePayment get-payment aggregate / eCom details summary).
 *
 * @param reference the payment reference / orderId
 * @param captured total captured
 * @param refunded total refunded so far (at Vipps)
 * @param capturedAt when it was first captured, if Vipps tells (else null)
 */
public record PaymentSnapshot(
    String reference, Money captured, Money refunded, Instant capturedAt) {

  /** What Vipps would still let be refunded. */
  public Money refundable() {
    return captured.minus(refunded);
  }
}

package io.refundbroker.sandbox;

import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import java.time.Instant;

/**
 * What the sandbox currently holds for a payment.
 *
 * @param msn sales unit
 * @param reference reference / orderId
 * @param api the API it was initiated with
 * @param captured captured total
 * @param refunded refunded total
 * @param createdAt reserved at
 * @param capturedAt captured at
 */
public record PaymentView(
    String msn,
    String reference,
    VippsApi api,
    Money captured,
    Money refunded,
    Instant createdAt,
    Instant capturedAt) {}

package io.refundbroker.vipps;

import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;

/**
 * One refund request to Vipps, made with the origin store's credentials.
 *
 * @param credentials the origin store's keys (their MSN is the {@code Merchant-Serial-Number})
 * @param api the origin store's API flavour
 * @param reference the payment's reference (ePayment) / orderId (eCom)
 * @param amount the amount to refund
 * @param idempotencyKey ePayment {@code Idempotency-Key} / eCom {@code X-Request-Id}; the same for
 *     every retry of this refund (≤ 40 characters so it fits both)
 * @param text eCom {@code transactionText} (≤ 100 characters); ePayment has no text field
 */
public record RefundCall(
    StoreCredentials credentials,
    VippsApi api,
    String reference,
    Money amount,
    String idempotencyKey,
    String text) {}

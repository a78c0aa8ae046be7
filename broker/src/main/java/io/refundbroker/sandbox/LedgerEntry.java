package io.refundbroker.sandbox;

import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import java.time.Instant;

/**
 * A refund the sandbox applied (one per applied refund; idempotent replays add none).
 *
 * @param msn the payment's sales unit
 * @param reference the payment's reference / orderId
 * @param api the API the refund came through
 * @param amount the refunded amount
 * @param idempotencyKey the {@code Idempotency-Key} / {@code X-Request-Id} it was sent with
 * @param clientId the {@code client_id} whose token authorized it
 * @param tokenMsn the MSN the token acted for (a store's own, or the one a partner's call named)
 * @param appliedAt when (sandbox clock)
 * @param partnerId the partner whose token acted for {@code tokenMsn}, or null for a store's own
 */
public record LedgerEntry(
    String msn,
    String reference,
    VippsApi api,
    Money amount,
    String idempotencyKey,
    String clientId,
    String tokenMsn,
    Instant appliedAt,
    String partnerId) {}

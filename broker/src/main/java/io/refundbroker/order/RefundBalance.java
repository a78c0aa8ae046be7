package io.refundbroker.order;

import io.refundbroker.money.Money;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import java.time.Instant;

/**
 * What the refund feature says can still be refunded of a payment. The order view asks through this
 * port because the rule (and the refunds table it reads) belongs to {@code refund}, which itself
 * depends on {@code order}; {@code refund.Refundable} implements it and {@code app} wires it.
 */
public interface RefundBalance {

  /** The refundable part of a payment, as a till sees it. */
  record Balance(Money inFlight, Money refundable, Instant refundableUntil) {}

  /**
   * The balance of the order {@code (storeId, orderId)} whose payment Vipps reports as {@code
   * captured} with {@code refunded} already refunded.
   *
   * @param capturedAt when it was captured, or null when nobody knows
   * @return the balance (its {@code refundableUntil} null without {@code capturedAt})
   */
  Future<Balance> of(
      SqlClient sql,
      String storeId,
      String orderId,
      Money captured,
      Money refunded,
      Instant capturedAt);
}

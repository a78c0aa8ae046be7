package io.refundbroker.order;

import io.refundbroker.money.Money;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the refund feature says can still be refunded of a payment. The order view asks through this
 * port because the rule (and the refunds table it reads) belongs to {@code refund}, which itself
 * depends on {@code order}; {@code refund.Refundable} implements it and {@code app} wires it.
 */
public interface RefundBalance {

  /** An order: the store it was made in and its id. */
  record OrderKey(String storeId, String orderId) {}

  /**
   * What the broker itself has refunded of an order ({@code SUCCEEDED} refunds) and what is still
   * in flight ({@code PENDING} or {@code UNKNOWN}), in minor units of the order's currency.
   */
  record Totals(long refunded, long inFlight) {
    public static final Totals NONE = new Totals(0, 0);
  }

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

  /**
   * The broker's own refund totals of several orders at once, from its refunds table only (no Vipps
   * call): the search shows them for each hit.
   *
   * @return the totals of each order that has any refund; orders without one are absent
   */
  Future<Map<OrderKey, Totals>> totals(SqlClient sql, List<OrderKey> orders);
}

package io.refundbroker.order;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

/**
 * The one path by which an order enters the index, for a till's registration ({@link
 * OrderService#register}) and an admin's CSV import ({@link OrderImport}) alike: insert it unless
 * the store already has that order id, and then tell a repeat of the same sale from a conflicting
 * one.
 */
final class OrderRegistry {
  private final OrderRepository orders;

  OrderRegistry(OrderRepository orders) {
    this.orders = orders;
  }

  /** What writing an order did. */
  sealed interface Written {
    /** The order as stored (the draft when it was created, else the existing one). */
    Order order();
  }

  /** The order was new and is now stored. */
  record Created(Order order) implements Written {}

  /** The same sale was already stored; nothing changed. */
  record Unchanged(Order order) implements Written {}

  /** The store already has this order id for a different sale; nothing changed. */
  record Conflict(Order order) implements Written {}

  /**
   * Writes {@code draft} in {@code tx}.
   *
   * @param compareCaptureTime whether a stored sale with another capture time conflicts (a till
   *     that sent no capture time compares only the amount)
   */
  Future<Written> write(SqlConnection tx, Order draft, boolean compareCaptureTime) {
    return orders
        .insertIfAbsent(tx, draft)
        .compose(
            inserted ->
                inserted != null
                    ? Future.succeededFuture(new Created(inserted))
                    : existing(tx, draft, compareCaptureTime));
  }

  private Future<Written> existing(SqlConnection tx, Order draft, boolean compareCaptureTime) {
    return orders
        .find(tx, draft.storeId(), draft.orderId())
        .map(existing -> compare(existing, draft, compareCaptureTime));
  }

  private static Written compare(Order existing, Order draft, boolean compareCaptureTime) {
    boolean same =
        compareCaptureTime ? existing.sameSale(draft) : existing.amount().equals(draft.amount());
    return same ? new Unchanged(existing) : new Conflict(existing);
  }
}

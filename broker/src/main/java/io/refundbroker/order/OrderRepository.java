package io.refundbroker.order;

import io.refundbroker.money.Money;
import io.refundbroker.sabotage.Sabotage;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** SQL for orders. */
public final class OrderRepository {
  private static final String ORDER_COLUMNS =
      "store_id, order_id, amount_value, currency, captured_at, source, registered_by,"
          + " registered_at";
  private static final String INSERT_ORDER_IF_ABSENT =
      """
      INSERT INTO orders (store_id, order_id, amount_value, currency, captured_at, source,
                          registered_by)
      VALUES (#{storeId}, #{orderId}, #{amount}, #{currency}, #{capturedAt}, #{source},
              #{registeredBy})
      ON CONFLICT (store_id, order_id) DO NOTHING
      RETURNING %s
      """
          .formatted(ORDER_COLUMNS);
  private static final String FIND_ORDER =
      "SELECT "
          + ORDER_COLUMNS
          + " FROM orders WHERE store_id = #{storeId} AND order_id = #{orderId}";
  private static final String LOCK_ORDER = FIND_ORDER + " FOR UPDATE";

  /** {@link Sabotage#SKIP_CHAIN_CHECK_FOR_STORES} only. */
  private static final String FIND_IN_ANY_CHAIN =
      """
      SELECT o.store_id, o.order_id, o.amount_value, o.currency, o.captured_at, o.source,
             o.registered_by, o.registered_at
        FROM orders o
       WHERE o.order_id = #{orderId} AND #{chainId}::text IS NOT NULL
       ORDER BY o.store_id
      """;

  private static final String FIND_IN_CHAIN =
      """
      SELECT o.store_id, o.order_id, o.amount_value, o.currency, o.captured_at, o.source,
             o.registered_by, o.registered_at
        FROM orders o
        JOIN stores s ON s.store_id = o.store_id
       WHERE o.order_id = #{orderId} AND s.chain_id = #{chainId}
       ORDER BY o.store_id
      """;

  /**
   * Inserts the order unless one with the same (store, order id) exists.
   *
   * @return the inserted order, or null when it already existed
   */
  public Future<Order> insertIfAbsent(SqlClient sql, Order order) {
    Map<String, Object> p = new HashMap<>();
    p.put("storeId", order.storeId());
    p.put("orderId", order.orderId());
    p.put("amount", order.amount().value());
    p.put("currency", order.amount().currency());
    p.put(
        "capturedAt",
        order.capturedAt() == null ? null : order.capturedAt().atOffset(ZoneOffset.UTC));
    p.put("source", order.source());
    p.put("registeredBy", order.registeredBy());
    return SqlTemplate.forQuery(sql, INSERT_ORDER_IF_ABSENT)
        .mapTo(Order::fromRow)
        .execute(p)
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next());
  }

  /** The order, or null. */
  public Future<Order> find(SqlClient sql, String storeId, String orderId) {
    return one(sql, FIND_ORDER, storeId, orderId);
  }

  /** The order locked until the transaction ends (serialises refunds of one order), or null. */
  public Future<Order> lock(SqlClient sql, String storeId, String orderId) {
    return one(sql, Sabotage.DROP_ORDER_LOCK.on() ? FIND_ORDER : LOCK_ORDER, storeId, orderId);
  }

  /** Registered orders with this id in any store of the chain. */
  public Future<List<Order>> findInChain(SqlClient sql, String chainId, String orderId) {
    return SqlTemplate.forQuery(
            sql, Sabotage.SKIP_CHAIN_CHECK_FOR_STORES.on() ? FIND_IN_ANY_CHAIN : FIND_IN_CHAIN)
        .mapTo(Order::fromRow)
        .execute(Map.of("chainId", chainId, "orderId", orderId))
        .map(
            rows -> {
              List<Order> orders = new ArrayList<>();
              rows.forEach(orders::add);
              return orders;
            });
  }

  /** A convenience for amounts that belong to an order's currency. */
  static Money money(long value, Order order) {
    return new Money(value, order.amount().currency());
  }

  private static Future<Order> one(SqlClient sql, String query, String storeId, String orderId) {
    return SqlTemplate.forQuery(sql, query)
        .mapTo(Order::fromRow)
        .execute(Map.of("storeId", storeId, "orderId", orderId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next());
  }
}

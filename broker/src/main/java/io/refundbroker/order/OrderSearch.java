package io.refundbroker.order;

import io.refundbroker.caller.Caller;
import io.refundbroker.db.Transactions;
import io.refundbroker.money.Money;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.util.List;
import java.util.Map;

/**
 * The cashier's search ({@code GET /v1/orders}): the registered orders of the caller's chain that
 * match a {@link OrderSearchQuery}, newest first, each with what the broker has refunded of it and
 * what is in flight. Everything comes from the broker's own tables: no Vipps call per hit (the
 * order view, {@code GET /v1/orders/{orderId}}, asks Vipps once the cashier picks one).
 */
public final class OrderSearch {
  /**
   * The best plan for a search depends on its values, not only on its filters: a receipt's digits
   * match a few hundred of a million orders (the trigram index, then sort), a store's prefix one in
   * twenty (walk the time index newest first); an amount likewise. The pool caches prepared
   * statements, and PostgreSQL may switch a cached statement to one generic plan after five runs;
   * with the time-index plan a fragment that matches nothing read the whole chain (1.6 s on
   * 1,000,000 orders, against 0.1 ms planned for its value). So each search is planned for its
   * values, in a transaction of its own (SET LOCAL ends with it).
   */
  private static final String CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan";

  private final Pool pool;
  private final OrderSearchRepository orders;
  private final RefundBalance balances;

  public OrderSearch(Pool pool, OrderSearchRepository orders, RefundBalance balances) {
    this.pool = pool;
    this.orders = orders;
    this.balances = balances;
  }

  /** One page of hits, and the cursor of the next page (null on the last). */
  public record Page(JsonArray orders, String nextCursor) {

    public JsonObject toJson() {
      JsonObject json = new JsonObject().put("orders", orders);
      if (nextCursor != null) {
        json.put("nextCursor", nextCursor);
      }
      return json;
    }
  }

  /**
   * Searches the caller's chain; never another chain's orders, whatever the filters say (an {@code
   * originStoreId} of another chain finds nothing).
   *
   * @return the page; fails with 403 {@code FORBIDDEN} for a caller without a store
   */
  public Future<Page> search(Caller caller, OrderSearchQuery query) {
    caller.principal().requireStore();
    String chainId = caller.principal().chainId();
    return Transactions.run(pool, tx -> page(tx, chainId, query));
  }

  /**
   * The setting and the search go out together (one connection runs them in order), so planning for
   * the values costs no extra round trip.
   */
  private Future<Page> page(SqlConnection tx, String chainId, OrderSearchQuery query) {
    Future<?> planned = tx.query(CUSTOM_PLANS).execute();
    Future<List<OrderSearchRepository.Hit>> found = orders.page(tx, chainId, query);
    return Future.all(planned, found)
        .compose(both -> withTotals(tx, found.result(), query.limit()));
  }

  /** Drops the look-ahead hit, then adds the broker's refund totals of the hits in one query. */
  private Future<Page> withTotals(
      SqlConnection tx, List<OrderSearchRepository.Hit> found, int limit) {
    boolean more = found.size() > limit;
    List<OrderSearchRepository.Hit> hits = more ? found.subList(0, limit) : found;
    String next = more ? hits.get(hits.size() - 1).position().encode() : null;
    List<RefundBalance.OrderKey> keys =
        hits.stream().map(h -> new RefundBalance.OrderKey(h.storeId(), h.orderId())).toList();
    return balances.totals(tx, keys).map(totals -> new Page(describe(hits, totals), next));
  }

  private static JsonArray describe(
      List<OrderSearchRepository.Hit> hits,
      Map<RefundBalance.OrderKey, RefundBalance.Totals> totals) {
    JsonArray array = new JsonArray();
    for (OrderSearchRepository.Hit hit : hits) {
      RefundBalance.Totals sums =
          totals.getOrDefault(
              new RefundBalance.OrderKey(hit.storeId(), hit.orderId()), RefundBalance.Totals.NONE);
      String currency = hit.captured().currency();
      JsonObject json =
          new JsonObject()
              .put("orderId", hit.orderId())
              .put("originStoreId", hit.storeId())
              .put("originStoreName", hit.storeName())
              .put("captured", hit.captured().toJson())
              .put("refundedHere", new Money(sums.refunded(), currency).toJson())
              .put("inFlight", new Money(sums.inFlight(), currency).toJson());
      if (hit.capturedAt() != null) {
        json.put("capturedAt", hit.capturedAt().toString());
      }
      array.add(json);
    }
    return array;
  }
}

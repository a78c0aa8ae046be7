package io.refundbroker.order;

import io.refundbroker.http.ProblemException;
import io.refundbroker.store.Store;
import io.refundbroker.store.StoreRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Finds the origin store of an order id within one chain: the registered order index first, then
 * the stores' order-id prefixes (Vipps recommends prefixing references with the MSN). The cashier
 * never supplies an MSN; {@code originStoreId} only picks among the chain's stores. An order of
 * another chain is indistinguishable from a missing one.
 */
public final class OrderResolver {
  private final StoreRepository stores;
  private final OrderRepository orders;

  public OrderResolver(StoreRepository stores, OrderRepository orders) {
    this.stores = stores;
    this.orders = orders;
  }

  /**
   * Resolves {@code orderId} in {@code chainId}.
   *
   * @return the origin store (and the registered order, if any); fails with 404 {@code
   *     ORDER_NOT_FOUND} or 409 {@code ORDER_AMBIGUOUS} (listing the candidate stores)
   */
  public Future<ResolvedOrder> resolve(
      SqlClient sql, String chainId, String orderId, String originStoreId) {
    return stores
        .list(sql, chainId)
        .compose(
            chainStores -> {
              Map<String, Store> byId =
                  chainStores.stream()
                      .collect(Collectors.toMap(Store::storeId, Function.identity()));
              if (originStoreId != null) {
                return explicit(sql, byId.get(originStoreId), orderId);
              }
              return orders
                  .findInChain(sql, chainId, orderId)
                  .compose(registered -> choose(registered, chainStores, byId, orderId));
            });
  }

  private Future<ResolvedOrder> explicit(SqlClient sql, Store store, String orderId) {
    if (store == null) {
      return Future.failedFuture(notFound(orderId));
    }
    return orders
        .find(sql, store.storeId(), orderId)
        .map(order -> new ResolvedOrder(store, orderId, order));
  }

  private static Future<ResolvedOrder> choose(
      List<Order> registered, List<Store> chainStores, Map<String, Store> byId, String orderId) {
    if (registered.size() == 1) {
      Order order = registered.get(0);
      return Future.succeededFuture(new ResolvedOrder(byId.get(order.storeId()), orderId, order));
    }
    if (registered.size() > 1) {
      return Future.failedFuture(
          ambiguous(orderId, registered.stream().map(o -> byId.get(o.storeId())).toList()));
    }
    List<Store> byPrefix =
        chainStores.stream()
            .filter(s -> s.orderIdPrefix() != null && orderId.startsWith(s.orderIdPrefix()))
            .toList();
    if (byPrefix.size() == 1) {
      return Future.succeededFuture(new ResolvedOrder(byPrefix.get(0), orderId, null));
    }
    if (byPrefix.size() > 1) {
      return Future.failedFuture(ambiguous(orderId, byPrefix));
    }
    return Future.failedFuture(notFound(orderId));
  }

  static ProblemException notFound(String orderId) {
    return ProblemException.notFound(
        "ORDER_NOT_FOUND",
        "No store of your chain has order '"
            + orderId
            + "'. Check the order id on the receipt; orders are registered with POST /v1/orders.");
  }

  private static ProblemException ambiguous(String orderId, List<Store> candidates) {
    JsonArray list = new JsonArray();
    candidates.forEach(
        s -> list.add(new JsonObject().put("storeId", s.storeId()).put("name", s.name())));
    return ProblemException.conflict(
            "ORDER_AMBIGUOUS",
            "Order '"
                + orderId
                + "' exists in several stores of your chain; repeat the request with"
                + " \"originStoreId\" set to one of the candidates.")
        .with("candidates", list);
  }
}

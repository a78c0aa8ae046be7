package io.refundbroker.order;

import io.refundbroker.error.ProblemException;
import io.refundbroker.sabotage.Sabotage;
import io.refundbroker.store.Store;
import io.refundbroker.store.StoreRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Finds the origin store of an order id within one chain, from the registered orders and the
 * stores' order-id prefixes (Vipps recommends prefixing references with the MSN). The cashier never
 * supplies an MSN; {@code originStoreId} only picks among the chain's stores. An order of another
 * chain is indistinguishable from a missing one.
 *
 * <p>A store's {@code orderIdPrefix} reserves the ids that carry it: no other store of the chain
 * may register such an id ({@link #checkNotReserved}, 409 {@code ORDER_ID_RESERVED}), or it could
 * take over the prefix owner's payments (the owner's refunds would be resolved to the squatter).
 * The candidates for an id are every store that registered it and every store whose prefix it
 * carries; one candidate is the origin, several are 409 {@code ORDER_AMBIGUOUS} — so a registration
 * made before the rule existed, or before the sibling set its prefix, never silently wins.
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
        .involved(sql, chainId, null, orderId, originStoreId)
        .compose(chainStores -> resolveAmong(sql, chainStores, chainId, orderId, originStoreId));
  }

  /**
   * {@link #resolve} with the chain's stores already read (the refund path reads them once for the
   * requesting store and the resolution).
   *
   * @param chainStores the stores of {@code chainId} the order id involves, as {@link
   *     StoreRepository#involved} gives them (every store of the chain would do as well)
   */
  public Future<ResolvedOrder> resolveAmong(
      SqlClient sql,
      List<Store> chainStores,
      String chainId,
      String orderId,
      String originStoreId) {
    Map<String, Store> byId =
        chainStores.stream().collect(Collectors.toMap(Store::storeId, Function.identity()));
    if (originStoreId != null) {
      return explicit(sql, byId.get(originStoreId), orderId);
    }
    return orders
        .findInChain(sql, chainId, orderId)
        .compose(registered -> located(sql, chainId, registered, byId))
        .compose(registered -> choose(registered, chainStores, orderId));
  }

  /** A registered order and the store it was registered in. */
  private record Registered(Store store, Order order) {}

  /**
   * The registered orders with their stores, keeping only those of stores in {@code chainId}. A
   * store not among {@code byId} (the chain's stores as read before the orders) is read by id: it
   * may have been created since; if it is not in the chain, its order is left out like a missing
   * one, never answered with a failure of its own. ({@link Sabotage#SKIP_CHAIN_CHECK_FOR_STORES}
   * keeps it, so the broken look-up really answers with another chain's order.)
   */
  private Future<List<Registered>> located(
      SqlClient sql, String chainId, List<Order> registered, Map<String, Store> byId) {
    List<Future<Registered>> found = new ArrayList<>();
    for (Order order : registered) {
      Store known = byId.get(order.storeId());
      Future<Store> store =
          known != null ? Future.succeededFuture(known) : stores.find(sql, order.storeId());
      found.add(store.map(s -> inChain(s, chainId) ? new Registered(s, order) : null));
    }
    return Future.all(found)
        .map(
            all -> {
              List<Registered> visible = new ArrayList<>();
              for (int i = 0; i < all.size(); i++) {
                Registered one = all.resultAt(i);
                if (one != null) {
                  visible.add(one);
                }
              }
              return visible;
            });
  }

  private static boolean inChain(Store store, String chainId) {
    return store != null
        && (chainId.equals(store.chainId()) || Sabotage.SKIP_CHAIN_CHECK_FOR_STORES.on());
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
      List<Registered> registered, List<Store> chainStores, String orderId) {
    Map<String, Store> candidates = new TreeMap<>();
    Map<String, Order> orders = new HashMap<>();
    for (Registered one : registered) {
      candidates.put(one.store().storeId(), one.store());
      orders.put(one.store().storeId(), one.order());
    }
    for (Store store : chainStores) {
      if (carriesPrefix(store, orderId)) {
        candidates.put(store.storeId(), store);
      }
    }
    if (candidates.isEmpty()) {
      return Future.failedFuture(notFound(orderId));
    }
    if (candidates.size() > 1) {
      return Future.failedFuture(ambiguous(orderId, List.copyOf(candidates.values())));
    }
    Store origin = candidates.values().iterator().next();
    return Future.succeededFuture(new ResolvedOrder(origin, orderId, orders.get(origin.storeId())));
  }

  /**
   * Refuses an order id of {@code storeId} that carries the {@code orderIdPrefix} of another store
   * of the chain.
   *
   * @return fails with 409 {@code ORDER_ID_RESERVED} naming the prefix's store
   */
  public Future<Void> checkNotReserved(
      SqlClient sql, String chainId, String storeId, String orderId) {
    return stores
        .involved(sql, chainId, storeId, orderId, null)
        .compose(
            chainStores -> {
              Store owner = prefixOwner(chainStores, storeId, orderId);
              return owner == null
                  ? Future.succeededFuture()
                  : Future.failedFuture(reserved(orderId, owner));
            });
  }

  /**
   * The store among {@code chainStores}, other than {@code storeId}, whose {@code orderIdPrefix}
   * {@code orderId} carries; null when there is none.
   */
  static Store prefixOwner(List<Store> chainStores, String storeId, String orderId) {
    for (Store store : chainStores) {
      if (!store.storeId().equals(storeId) && carriesPrefix(store, orderId)) {
        return store;
      }
    }
    return null;
  }

  private static boolean carriesPrefix(Store store, String orderId) {
    return store.orderIdPrefix() != null && orderId.startsWith(store.orderIdPrefix());
  }

  static ProblemException reserved(String orderId, Store owner) {
    return ProblemException.conflict(
            "ORDER_ID_RESERVED",
            "Order id '"
                + orderId
                + "' starts with the order-id prefix '"
                + owner.orderIdPrefix()
                + "' of store '"
                + owner.storeId()
                + "'; only that store's sales may use it. Register the sale under your own"
                + " store's order ids.")
        .with("ownerStoreId", owner.storeId());
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
                + "' belongs to several stores of your chain (registered there or carrying"
                + " their order-id prefix); repeat the request with \"originStoreId\" set to"
                + " one of the candidates.")
        .with("candidates", list);
  }
}

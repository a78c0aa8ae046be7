package io.refundbroker.store;

import io.refundbroker.audit.AuditEvent;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.caller.Caller;
import io.refundbroker.db.Transactions;
import io.refundbroker.error.ProblemException;
import io.refundbroker.salesunit.VippsApi;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import java.util.List;
import java.util.Objects;

/**
 * Enrolls and changes stores. Every change is audited in the same transaction.
 *
 * <p>A store's key option: with {@code partnerId} it is refunded with that partner's keys (option
 * A); without, with its sales unit's own keys (option B, or C when several stores share the MSN).
 * Several stores may share one sales unit only if every one of them has its own {@code
 * orderIdPrefix} (the prefix decides an order's origin store) and they are of one chain; stores
 * joining a sales unit are checked one at a time under a lock on its row.
 */
public final class StoreService {
  private final Pool pool;
  private final StoreRepository stores;
  private final AuditLog audit;

  public StoreService(Pool pool, StoreRepository stores, AuditLog audit) {
    this.pool = pool;
    this.stores = stores;
    this.audit = audit;
  }

  /**
   * Enrolls a store (creating its chain on first use).
   *
   * @param body a schema-validated {@code NewStore}
   * @return the store; fails with 409 {@code STORE_EXISTS} or {@code MSN_IN_USE} (the sales unit is
   *     another chain's, or a store on it lacks or shares an order-id prefix), 422 {@code
   *     PARTNER_NOT_FOUND}
   */
  public Future<Store> create(Caller caller, JsonObject body) {
    Store draft =
        new Store(
            body.getString("storeId"),
            body.getString("chainId"),
            body.getString("name"),
            body.getString("msn"),
            VippsApi.fromWireName(body.getString("api", "epayment")),
            body.getString("orderIdPrefix"),
            body.getString("partnerId"),
            RefundLimits.fromJson(body.getJsonObject("limits")),
            false,
            null,
            null);
    return Transactions.run(
        pool,
        tx ->
            stores
                .ensureChain(tx, draft.chainId())
                .compose(v -> checkSalesUnit(tx, draft))
                .compose(v -> stores.insert(tx, draft))
                .compose(store -> audit.record(tx, caller, created(store), store)));
  }

  /**
   * Locks the store's sales unit and checks it may be on it: every store of a shared MSN is of one
   * chain and has its own order-id prefix, none a prefix of another's (else an order id could
   * belong to two of them).
   */
  private Future<Void> checkSalesUnit(SqlConnection tx, Store store) {
    return stores
        .lockSalesUnit(tx, store.msn())
        .compose(v -> stores.onSalesUnit(tx, store.msn()))
        .compose(siblings -> sharable(store, siblings));
  }

  private static Future<Void> sharable(Store store, List<Store> onSalesUnit) {
    for (Store sibling : onSalesUnit) {
      if (sibling.storeId().equals(store.storeId())) {
        continue;
      }
      String why = conflict(store, sibling);
      if (why != null) {
        return Future.failedFuture(
            ProblemException.conflict(
                    "MSN_IN_USE",
                    "Store '"
                        + sibling.storeId()
                        + "' is already on Merchant-Serial-Number "
                        + store.msn()
                        + ": "
                        + why)
                .with("storeId", sibling.storeId()));
      }
    }
    return Future.succeededFuture();
  }

  /** Why {@code store} cannot share its sales unit with {@code sibling}, or null. */
  private static String conflict(Store store, Store sibling) {
    if (!sibling.chainId().equals(store.chainId())) {
      return "a sales unit belongs to one chain.";
    }
    if (store.orderIdPrefix() == null || sibling.orderIdPrefix() == null) {
      return "stores sharing a sales unit must each have their own orderIdPrefix (it decides"
          + " which store an order was taken in).";
    }
    if (store.orderIdPrefix().startsWith(sibling.orderIdPrefix())
        || sibling.orderIdPrefix().startsWith(store.orderIdPrefix())) {
      return "its orderIdPrefix '"
          + sibling.orderIdPrefix()
          + "' overlaps '"
          + store.orderIdPrefix()
          + "'; each store on a shared sales unit needs a prefix of its own.";
    }
    return null;
  }

  private static AuditEvent created(Store store) {
    return AuditEvent.success(
        "store.created", "store", store.storeId(), store.chainId(), settings(store));
  }

  /** The store; fails with 404 {@code STORE_NOT_FOUND}. */
  public Future<Store> get(String storeId) {
    return get(pool, storeId);
  }

  /** The store, read through {@code sql}; fails with 404 {@code STORE_NOT_FOUND}. */
  public Future<Store> get(SqlClient sql, String storeId) {
    return stores.find(sql, storeId).compose(store -> found(store, storeId));
  }

  /** The stores on sales unit {@code msn} (several under option C), by id. */
  public Future<List<Store>> onSalesUnit(String msn) {
    return stores.onSalesUnit(pool, msn);
  }

  public Future<List<Store>> list(String chainId) {
    return stores.list(pool, chainId);
  }

  /**
   * Applies a merge patch (name, api, orderIdPrefix, partnerId, limits, frozen). Setting or
   * removing {@code partnerId} switches the store between partner keys (option A) and its sales
   * unit's own keys (B/C); refunds already written keep the key set they were written with.
   *
   * @param patch a schema-validated {@code StorePatch}
   * @return the updated store; fails with 404 {@code STORE_NOT_FOUND}, 409 {@code MSN_IN_USE} (a
   *     prefix change that breaks the shared sales unit's rule), 422 {@code PARTNER_NOT_FOUND}
   */
  public Future<Store> update(Caller caller, String storeId, JsonObject patch) {
    return Transactions.run(
        pool,
        tx ->
            stores
                .findForUpdate(tx, storeId)
                .compose(store -> found(store, storeId))
                .compose(before -> patch(tx, caller, before, patch)));
  }

  /** Writes and audits what the patch changes; a patch that changes nothing writes nothing. */
  private Future<Store> patch(SqlConnection tx, Caller caller, Store before, JsonObject patch) {
    Store after = applyPatch(before, patch);
    JsonObject changes = changes(before, after);
    if (changes.isEmpty()) {
      return Future.succeededFuture(before);
    }
    Future<Void> checked =
        changes.containsKey("orderIdPrefix") ? checkSalesUnit(tx, after) : Future.succeededFuture();
    return checked
        .compose(v -> stores.update(tx, after))
        .compose(
            updated ->
                audit.record(
                    tx,
                    caller,
                    AuditEvent.success(
                        action(changes),
                        "store",
                        updated.storeId(),
                        updated.chainId(),
                        new JsonObject().put("changes", changes)),
                    updated));
  }

  private static Future<Store> found(Store store, String storeId) {
    return store != null
        ? Future.succeededFuture(store)
        : Future.failedFuture(
            ProblemException.notFound(
                "STORE_NOT_FOUND", "No store has storeId '" + storeId + "'."));
  }

  private static Store applyPatch(Store s, JsonObject patch) {
    return new Store(
        s.storeId(),
        s.chainId(),
        patch.containsKey("name") ? patch.getString("name") : s.name(),
        s.msn(),
        patch.containsKey("api") ? VippsApi.fromWireName(patch.getString("api")) : s.api(),
        patch.containsKey("orderIdPrefix") ? patch.getString("orderIdPrefix") : s.orderIdPrefix(),
        patch.containsKey("partnerId") ? patch.getString("partnerId") : s.partnerId(),
        patch.containsKey("limits")
            ? RefundLimits.fromJson(patch.getJsonObject("limits"))
            : s.limits(),
        patch.containsKey("frozen") ? patch.getBoolean("frozen") : s.frozen(),
        s.createdAt(),
        s.updatedAt());
  }

  private static JsonObject changes(Store before, Store after) {
    JsonObject changes = new JsonObject();
    JsonObject from = settings(before);
    JsonObject to = settings(after);
    for (String field : List.of("name", "api", "orderIdPrefix", "partnerId", "limits", "frozen")) {
      Object a = from.getValue(field);
      Object b = to.getValue(field);
      if (!Objects.equals(a, b)) {
        changes.put(field, new JsonObject().put("from", a).put("to", b));
      }
    }
    return changes;
  }

  private static String action(JsonObject changes) {
    if (changes.size() == 1 && changes.containsKey("frozen")) {
      return changes.getJsonObject("frozen").getBoolean("to") ? "store.frozen" : "store.unfrozen";
    }
    if (changes.containsKey("partnerId")) {
      return "store.keys_switched";
    }
    return "store.updated";
  }

  private static JsonObject settings(Store store) {
    JsonObject json = store.toJson();
    json.remove("createdAt");
    json.remove("updatedAt");
    if (!json.containsKey("orderIdPrefix")) {
      json.putNull("orderIdPrefix");
    }
    if (!json.containsKey("limits")) {
      json.putNull("limits");
    }
    if (!json.containsKey("partnerId")) {
      json.putNull("partnerId");
    }
    return json;
  }
}

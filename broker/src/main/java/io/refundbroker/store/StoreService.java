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

/** Enrolls and changes stores. Every change is audited in the same transaction. */
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
   * @return the store; fails with 409 {@code STORE_EXISTS} or {@code MSN_IN_USE}
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
            RefundLimits.fromJson(body.getJsonObject("limits")),
            false,
            null,
            null);
    return Transactions.run(
        pool,
        tx ->
            stores
                .ensureChain(tx, draft.chainId())
                .compose(v -> stores.insert(tx, draft))
                .compose(store -> audit.record(tx, caller, created(store), store)));
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

  public Future<List<Store>> list(String chainId) {
    return stores.list(pool, chainId);
  }

  /**
   * Applies a merge patch (name, api, orderIdPrefix, limits, frozen).
   *
   * @param patch a schema-validated {@code StorePatch}
   * @return the updated store; fails with 404 {@code STORE_NOT_FOUND}
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
    return stores
        .update(tx, after)
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
    for (String field : List.of("name", "api", "orderIdPrefix", "limits", "frozen")) {
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
    return json;
  }
}

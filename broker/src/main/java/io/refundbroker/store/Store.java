package io.refundbroker.store;

import io.refundbroker.salesunit.VippsApi;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;

/**
 * A store of a chain, on a Vipps sales unit ({@code msn}; several stores may share one, each with
 * its own {@code orderIdPrefix}). Its payments are refunded with its partner's keys when {@code
 * partnerId} is set (option A), else with its sales unit's own keys (options B and C).
 */
public record Store(
    String storeId,
    String chainId,
    String name,
    String msn,
    VippsApi api,
    String orderIdPrefix,
    String partnerId,
    RefundLimits limits,
    boolean frozen,
    Instant createdAt,
    Instant updatedAt) {

  static Store fromRow(Row row) {
    String limitCurrency = row.getString("limit_currency");
    RefundLimits limits =
        limitCurrency == null
            ? null
            : new RefundLimits(
                limitCurrency, row.getLong("limit_per_refund"), row.getLong("limit_per_day"));
    return new Store(
        row.getString("store_id"),
        row.getString("chain_id"),
        row.getString("name"),
        row.getString("msn"),
        VippsApi.fromWireName(row.getString("api")),
        row.getString("order_id_prefix"),
        row.getString("partner_id"),
        limits,
        row.getBoolean("frozen"),
        row.getOffsetDateTime("created_at").toInstant(),
        row.getOffsetDateTime("updated_at").toInstant());
  }

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("storeId", storeId)
            .put("name", name)
            .put("msn", msn)
            .put("chainId", chainId)
            .put("api", api.wireName())
            .put("frozen", frozen)
            .put("createdAt", createdAt.toString())
            .put("updatedAt", updatedAt.toString());
    if (orderIdPrefix != null) {
      json.put("orderIdPrefix", orderIdPrefix);
    }
    if (partnerId != null) {
      json.put("partnerId", partnerId);
    }
    if (limits != null) {
      json.put("limits", limits.toJson());
    }
    return json;
  }
}

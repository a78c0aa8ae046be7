package io.refundbroker.store;

import io.vertx.core.json.JsonObject;

/**
 * Limits on refunds a store may <em>request</em> (whoever the origin store is), in minor units of
 * {@code currency}. A null limit is no limit.
 */
public record RefundLimits(String currency, Long perRefund, Long perDay) {

  public static RefundLimits fromJson(JsonObject json) {
    return json == null
        ? null
        : new RefundLimits(
            json.getString("currency"), json.getLong("perRefund"), json.getLong("perDay"));
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("currency", currency);
    if (perRefund != null) {
      json.put("perRefund", perRefund);
    }
    if (perDay != null) {
      json.put("perDay", perDay);
    }
    return json;
  }
}

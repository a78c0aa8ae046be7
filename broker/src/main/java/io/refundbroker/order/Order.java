package io.refundbroker.order;

import io.refundbroker.money.Money;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.time.OffsetDateTime;

/**
 * A completed sale, identified by the store it was made in and its Vipps order id (order ids are
 * unique per MSN only).
 *
 * @param source {@code REGISTERED} (POS), {@code IMPORTED} (admin CSV) or {@code VIPPS} (learned
 *     from Vipps on the first refund of an order resolved by prefix)
 */
public record Order(
    String storeId,
    String orderId,
    Money amount,
    Instant capturedAt,
    String source,
    String registeredBy,
    Instant registeredAt) {

  static Order fromRow(Row row) {
    OffsetDateTime captured = row.getOffsetDateTime("captured_at");
    OffsetDateTime registered = row.getOffsetDateTime("registered_at");
    return new Order(
        row.getString("store_id"),
        row.getString("order_id"),
        new Money(row.getLong("amount_value"), row.getString("currency")),
        captured == null ? null : captured.toInstant(),
        row.getString("source"),
        row.getString("registered_by"),
        registered == null ? null : registered.toInstant());
  }

  /** True when {@code other} describes the same sale (same store, id, amount, capture time). */
  public boolean sameSale(Order other) {
    return storeId.equals(other.storeId)
        && orderId.equals(other.orderId)
        && amount.equals(other.amount)
        && java.util.Objects.equals(capturedAt, other.capturedAt);
  }

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("orderId", orderId)
            .put("storeId", storeId)
            .put("amount", amount.toJson())
            .put("source", source);
    if (capturedAt != null) {
      json.put("capturedAt", capturedAt.toString());
    }
    if (registeredAt != null) {
      json.put("registeredAt", registeredAt.toString());
    }
    return json;
  }
}

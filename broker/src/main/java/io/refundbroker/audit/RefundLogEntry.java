package io.refundbroker.audit;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Currency;
import java.util.List;

/**
 * One refund as the auditor sees it (a row of {@code refunds}). Contains no secret: the Vipps
 * idempotency key is the broker's own refund id, not a credential.
 */
public record RefundLogEntry(
    String refundId,
    Instant createdAt,
    Instant updatedAt,
    Instant completedAt,
    String status,
    String chainId,
    String requestingStoreId,
    String requestingClientId,
    String originStoreId,
    String orderId,
    String msn,
    String api,
    long amountValue,
    String currency,
    String reason,
    String failureCode,
    Integer credentialsVersion,
    String partnerId,
    int attempts,
    String vippsIdempotencyKey) {

  /** The columns read by {@link #fromRow}. */
  static final String COLUMNS =
      "refund_id, created_at, updated_at, completed_at, status, chain_id, requesting_store_id,"
          + " requesting_client_id, origin_store_id, order_id, msn, api, amount_value, currency,"
          + " reason, failure_code, credentials_version, partner_id, attempts, upstream_key";

  /** Column headers of the CSV export, in order (see {@link #csvCells()}). */
  public static final List<String> CSV_HEADER =
      List.of(
          "refund_id",
          "created_at",
          "completed_at",
          "status",
          "chain_id",
          "requesting_store_id",
          "requesting_client_id",
          "origin_store_id",
          "order_id",
          "msn",
          "api",
          "amount_minor",
          "currency",
          "amount",
          "reason",
          "failure_code",
          "credentials_version",
          "attempts",
          "vipps_idempotency_key",
          "updated_at");

  static RefundLogEntry fromRow(Row row) {
    return new RefundLogEntry(
        row.getUUID("refund_id").toString(),
        instant(row.getOffsetDateTime("created_at")),
        instant(row.getOffsetDateTime("updated_at")),
        instant(row.getOffsetDateTime("completed_at")),
        row.getString("status"),
        row.getString("chain_id"),
        row.getString("requesting_store_id"),
        row.getString("requesting_client_id"),
        row.getString("origin_store_id"),
        row.getString("order_id"),
        row.getString("msn"),
        row.getString("api"),
        row.getLong("amount_value"),
        row.getString("currency"),
        row.getString("reason"),
        row.getString("failure_code"),
        row.getInteger("credentials_version"),
        row.getString("partner_id"),
        row.getInteger("attempts"),
        row.getString("upstream_key"));
  }

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("refundId", refundId)
            .put("createdAt", ChainedEvent.formatTime(createdAt))
            .put("updatedAt", ChainedEvent.formatTime(updatedAt))
            .put("status", status)
            .put("chainId", chainId)
            .put("requestingStoreId", requestingStoreId)
            .put("requestingClientId", requestingClientId)
            .put("originStoreId", originStoreId)
            .put("orderId", orderId)
            .put("msn", msn)
            .put("api", api)
            .put("amount", new JsonObject().put("value", amountValue).put("currency", currency))
            .put("reason", reason)
            .put("attempts", attempts)
            .put("vippsIdempotencyKey", vippsIdempotencyKey);
    if (completedAt != null) {
      json.put("completedAt", ChainedEvent.formatTime(completedAt));
    }
    if (failureCode != null) {
      json.put("failureCode", failureCode);
    }
    if (credentialsVersion != null) {
      json.put("credentialsVersion", credentialsVersion);
    }
    if (partnerId != null) {
      json.put("partnerId", partnerId);
    }
    return json;
  }

  /** The CSV cells, in {@link #CSV_HEADER} order (unescaped; {@link Csv} quotes them). */
  public List<String> csvCells() {
    return java.util.Arrays.asList(
        refundId,
        ChainedEvent.formatTime(createdAt),
        completedAt == null ? "" : ChainedEvent.formatTime(completedAt),
        status,
        chainId,
        requestingStoreId,
        requestingClientId,
        originStoreId,
        orderId,
        msn,
        api,
        Long.toString(amountValue),
        currency,
        formatAmount(amountValue, currency),
        reason,
        failureCode == null ? "" : failureCode,
        credentialsVersion == null ? "" : credentialsVersion.toString(),
        Integer.toString(attempts),
        vippsIdempotencyKey,
        ChainedEvent.formatTime(updatedAt));
  }

  /**
   * Minor units as a plain decimal in the currency's own precision ({@code 12345 NOK → 123.45}).
   */
  public static String formatAmount(long minorUnits, String currency) {
    int digits;
    try {
      digits = Math.max(0, Currency.getInstance(currency).getDefaultFractionDigits());
    } catch (IllegalArgumentException unknown) {
      digits = 2;
    }
    return BigDecimal.valueOf(minorUnits, digits).toPlainString();
  }

  private static Instant instant(OffsetDateTime time) {
    return time == null ? null : time.toInstant();
  }
}

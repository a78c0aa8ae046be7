package io.refundbroker.refund;

import io.refundbroker.caller.Principal;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.KeysInUse;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.store.Store;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * One broker refund, as stored. {@code upstreamKey} is the idempotency key sent to Vipps. The key
 * set it is sent with is recorded when it is written and never changes: the origin sales unit's own
 * keys ({@code partnerId} null) or partner {@code partnerId}'s keys (option A), at version {@code
 * credentialsVersion} (a resend after a rotation uses the holder's newer version).
 */
public record Refund(
    UUID refundId,
    String requestingClientId,
    String requestingStoreId,
    String originStoreId,
    String orderId,
    String chainId,
    String msn,
    VippsApi api,
    Money amount,
    String reason,
    RefundStatus status,
    String upstreamKey,
    String idempotencyKey,
    String failureCode,
    String failureDetail,
    Integer credentialsVersion,
    String partnerId,
    Integer upstreamStatus,
    int attempts,
    Instant nextAttemptAt,
    Instant lastAttemptAt,
    Instant createdAt,
    Instant updatedAt,
    Instant completedAt) {

  static final String COLUMNS =
      "refund_id, requesting_client_id, requesting_store_id, origin_store_id, order_id, chain_id,"
          + " msn, api, amount_value, currency, reason, status, upstream_key, idempotency_key,"
          + " failure_code, failure_detail, credentials_version, partner_id, upstream_status,"
          + " attempts,"
          + " next_attempt_at, last_attempt_at, created_at, updated_at, completed_at";

  /**
   * A refund written ahead, before Vipps is called: {@code PENDING}, its first attempt now, its
   * refund id also the idempotency key sent to Vipps, and left to the reconciler from {@code
   * reconcileFrom} on (when the request path has surely given up on its call).
   *
   * @param requester the store client asking
   * @param idempotencyKey the key the requester sent
   * @param origin the store the payment was taken in
   * @param keys the key set the refund is sent with (the origin's partner's or its sales unit's)
   */
  static Refund pending(
      UUID refundId,
      Principal requester,
      String idempotencyKey,
      Store origin,
      String orderId,
      Money amount,
      String reason,
      KeysInUse keys,
      Instant now,
      Instant reconcileFrom) {
    return new Refund(
        refundId,
        requester.clientId(),
        requester.storeId(),
        origin.storeId(),
        orderId,
        requester.chainId(),
        origin.msn(),
        origin.api(),
        amount,
        reason,
        RefundStatus.PENDING,
        refundId.toString(),
        idempotencyKey,
        /* failureCode */ null,
        /* failureDetail */ null,
        keys.keys().version(),
        keys.keys().holder() instanceof KeyHolder.Partner partner ? partner.partnerId() : null,
        /* upstreamStatus */ null,
        /* attempts */ 1,
        reconcileFrom,
        /* lastAttemptAt */ now,
        /* createdAt */ now,
        /* updatedAt */ now,
        /* completedAt */ null);
  }

  /**
   * This refund as {@code RECORD_OUTCOME} leaves it: the new status, failure, upstream status and
   * next attempt, updated {@code now}, completed {@code now} when the status is final. {@code now}
   * is taken to the microsecond, as the database keeps it.
   */
  Refund withOutcome(
      RefundStatus newStatus,
      String newFailureCode,
      String newFailureDetail,
      Integer newUpstreamStatus,
      Instant newNextAttemptAt,
      Instant now) {
    Instant at = now.truncatedTo(ChronoUnit.MICROS);
    return new Refund(
        refundId,
        requestingClientId,
        requestingStoreId,
        originStoreId,
        orderId,
        chainId,
        msn,
        api,
        amount,
        reason,
        newStatus,
        upstreamKey,
        idempotencyKey,
        newFailureCode,
        newFailureDetail,
        credentialsVersion,
        partnerId,
        newUpstreamStatus,
        attempts,
        newNextAttemptAt == null ? null : newNextAttemptAt.truncatedTo(ChronoUnit.MICROS),
        lastAttemptAt,
        createdAt,
        at,
        newStatus.unresolved() ? completedAt : at);
  }

  static Refund fromRow(Row row) {
    return new Refund(
        row.getUUID("refund_id"),
        row.getString("requesting_client_id"),
        row.getString("requesting_store_id"),
        row.getString("origin_store_id"),
        row.getString("order_id"),
        row.getString("chain_id"),
        row.getString("msn"),
        VippsApi.fromWireName(row.getString("api")),
        new Money(row.getLong("amount_value"), row.getString("currency")),
        row.getString("reason"),
        RefundStatus.valueOf(row.getString("status")),
        row.getString("upstream_key"),
        row.getString("idempotency_key"),
        row.getString("failure_code"),
        row.getString("failure_detail"),
        row.getInteger("credentials_version"),
        row.getString("partner_id"),
        row.getInteger("upstream_status"),
        row.getInteger("attempts"),
        instant(row.getOffsetDateTime("next_attempt_at")),
        instant(row.getOffsetDateTime("last_attempt_at")),
        instant(row.getOffsetDateTime("created_at")),
        instant(row.getOffsetDateTime("updated_at")),
        instant(row.getOffsetDateTime("completed_at")));
  }

  /** Whose keys this refund is sent with, whatever its store uses by now. */
  KeyHolder keyHolder() {
    return partnerId != null ? KeyHolder.partner(partnerId) : KeyHolder.salesUnit(msn);
  }

  /** The key set, in audit words: {@code {holder: salesunit|partner, partnerId?, version}}. */
  JsonObject keysJson() {
    JsonObject keys =
        new JsonObject()
            .put("holder", partnerId != null ? "partner" : "salesunit")
            .put("version", credentialsVersion);
    if (partnerId != null) {
      keys.put("partnerId", partnerId);
    }
    return keys;
  }

  private static Instant instant(OffsetDateTime time) {
    return time == null ? null : time.toInstant();
  }

  /** The representation stores see. */
  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("refundId", refundId.toString())
            .put("status", status.name())
            .put("orderId", orderId)
            .put("originStoreId", originStoreId)
            .put("requestingStoreId", requestingStoreId)
            .put("amount", amount.toJson())
            .put("reason", reason)
            .put("createdAt", createdAt.toString())
            .put("updatedAt", updatedAt.toString());
    if (completedAt != null) {
      json.put("completedAt", completedAt.toString());
    }
    if (failureCode != null) {
      json.put("failure", new JsonObject().put("code", failureCode).put("detail", failureDetail));
    }
    return json;
  }

  /** What an audit event about this refund records (never a secret). */
  JsonObject auditDetails() {
    JsonObject details =
        new JsonObject()
            .put("refundId", refundId.toString())
            .put("requestingStoreId", requestingStoreId)
            .put("originStoreId", originStoreId)
            .put("orderId", orderId)
            .put("msn", msn)
            .put("api", api.wireName())
            .put("amount", amount.toJson())
            .put("vippsIdempotencyKey", upstreamKey)
            .put("credentialsVersion", credentialsVersion)
            .put("keys", keysJson())
            .put("status", status.name())
            .put("attempts", attempts);
    if (upstreamStatus != null) {
      details.put("upstreamStatus", upstreamStatus);
    }
    if (failureCode != null) {
      details.put("failureCode", failureCode).put("failureDetail", failureDetail);
    }
    return details;
  }
}

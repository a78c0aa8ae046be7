package io.refundbroker.refund;

import io.refundbroker.caller.Principal;
import io.refundbroker.caller.Role;
import io.refundbroker.config.Secret;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.KeysInUse;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.salesunit.VippsKeys;
import io.refundbroker.store.RefundLimits;
import io.refundbroker.store.Store;
import java.time.Instant;
import java.util.UUID;

/** Test data for the refund unit tests: stores, callers, key sets and refunds (no database). */
final class Refunds {
  static final Instant NOW = Instant.parse("2026-11-30T12:00:00.123456789Z");

  private Refunds() {}

  static Store store(String storeId, String chainId, RefundLimits limits) {
    return new Store(
        storeId,
        chainId,
        "Store " + storeId,
        "612345",
        VippsApi.EPAYMENT,
        null,
        null,
        limits,
        false,
        NOW,
        NOW);
  }

  static Principal cashier(String storeId) {
    return new Principal("cl_" + storeId, "till of " + storeId, Role.STORE, storeId, "acme");
  }

  static KeysInUse keys(KeyHolder holder, int version) {
    return new KeysInUse(
        "612345",
        VippsApi.EPAYMENT,
        new VippsKeys(
            holder, version, "client-id", Secret.of("client-secret"), Secret.of("sub-key")));
  }

  /** A refund of 2500 NOK øre from bergen of an order taken in oslo, PENDING. */
  static Refund pending(KeyHolder holder) {
    return Refund.pending(
        UUID.fromString("8b3f0a52-7c1e-4a8e-9f3a-2d1c5e6b7a90"),
        cashier("bergen"),
        "idem-1",
        new Store(
            "oslo", "acme", "Oslo", "654321", VippsApi.ECOM, null, null, null, false, NOW, NOW),
        "654321-order-1",
        new Money(2500, "NOK"),
        "damaged",
        keys(holder, 3),
        NOW,
        NOW.plusSeconds(30));
  }

  static Refund pending() {
    return pending(KeyHolder.salesUnit("654321"));
  }

  /** {@code refund} in {@code status} with the given failure, as read back from the database. */
  static Refund in(
      Refund refund,
      RefundStatus status,
      String failureCode,
      String failureDetail,
      Integer upstreamStatus) {
    return new Refund(
        refund.refundId(),
        refund.requestingClientId(),
        refund.requestingStoreId(),
        refund.originStoreId(),
        refund.orderId(),
        refund.chainId(),
        refund.msn(),
        refund.api(),
        refund.amount(),
        refund.reason(),
        status,
        refund.upstreamKey(),
        refund.idempotencyKey(),
        failureCode,
        failureDetail,
        refund.credentialsVersion(),
        refund.partnerId(),
        upstreamStatus,
        refund.attempts(),
        refund.nextAttemptAt(),
        refund.lastAttemptAt(),
        refund.createdAt(),
        refund.updatedAt(),
        status.unresolved() ? null : refund.updatedAt());
  }
}

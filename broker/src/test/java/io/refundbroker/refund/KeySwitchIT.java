package io.refundbroker.refund;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.PartnerKeys;
import io.refundbroker.testing.RefundWorld.Shop;
import io.refundbroker.vipps.VippsHeaders;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Switching a store between its own keys (B) and partner keys (A) is an admin PATCH; a refund in
 * flight when it happens finishes with the key set it was written with, exactly once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeySwitchIT {
  private RefundWorld world;
  private Shop origin;
  private Shop till;
  private PartnerKeys vendor;

  @BeforeAll
  void start() {
    world = RefundWorld.start();
    origin = world.shop("switching", "acme", "444001");
    till = world.shop("till-store", "acme", "444002");
    vendor = world.partner("switch-vendor", origin.msn(), till.msn());
  }

  @AfterEach
  void specsHold() {
    world.vipps.sandbox().clearFaults();
    world.vipps.assertNoViolations();
  }

  @AfterAll
  void stop() {
    world.close();
  }

  @Test
  void switchingFromBToAWithARefundUnknownInFlightSettlesItExactlyOnce() {
    assertThat(world.usePartner(origin, null).status()).isEqualTo(200);
    world.sale(origin, "switch-b-a-1", 9000);
    world
        .vipps
        .sandbox()
        .inject(
            Fault.applyThenDrop().on(Fault.Target.REFUND).forReference("switch-b-a-1").times(1));
    HttpResult reply = world.refund(till, "sw-1", refundBody("switch-b-a-1", 4000));
    assertThat(reply.status()).as(reply.toString()).isEqualTo(202);
    assertThat(reply.json().getString("status")).isEqualTo("UNKNOWN");
    String refundId = reply.json().getString("refundId");

    HttpResult switched = world.usePartner(origin, "switch-vendor");
    assertThat(switched.status()).as(switched.toString()).isEqualTo(200);
    assertThat(switched.json().getString("partnerId")).isEqualTo("switch-vendor");
    world.vipps.sandbox().clearRequests();

    world.reconcileUntilResolved(5);

    assertThat(world.broker.get("/v1/refunds/" + refundId, till.token()).json().getString("status"))
        .isEqualTo("SUCCEEDED");
    List<LedgerEntry> applied =
        world.ledger().stream().filter(e -> e.reference().equals("switch-b-a-1")).toList();
    assertThat(applied)
        .as("applied once, with the store's own keys it was written with")
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.partnerId()).isNull();
              assertThat(e.clientId()).isEqualTo(origin.keys().clientId());
            });
    List<RecordedRequest> reconciled =
        world.vipps.sandbox().requests().stream()
            .filter(r -> r.path().startsWith("/epayment/v1/payments/switch-b-a-1"))
            .toList();
    assertThat(reconciled).as("the reconciler asked Vipps").isNotEmpty();
    assertThat(reconciled)
        .allSatisfy(
            r ->
                assertThat(r.header(VippsHeaders.SUBSCRIPTION_KEY))
                    .as("the refund's recorded key set, not the partner's the store uses now")
                    .contains(origin.keys().subscriptionKey().reveal()));
    assertThat(
            world
                .broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM refunds WHERE order_id = 'switch-b-a-1'"
                        + " AND status = 'SUCCEEDED' AND partner_id IS NULL"))
        .isEqualTo(1);

    HttpResult next = world.refund(till, "sw-2", refundBody("switch-b-a-1", 1000));
    assertThat(next.status()).as(next.toString()).isEqualTo(201);
    assertThat(world.ledger())
        .filteredOn(e -> e.reference().equals("switch-b-a-1"))
        .extracting(LedgerEntry::partnerId)
        .as("a refund written after the switch uses the partner's keys")
        .containsExactly(null, "switch-vendor");

    AuditLinks.await(world.broker.database());
    assertThat(
            world
                .broker
                .database()
                .query(
                    "SELECT action FROM audit_events WHERE subject_type = 'store'"
                        + " AND subject_id = 'switching' AND action = 'store.keys_switched'"))
        .as("the switch is audited")
        .isNotEmpty();
  }

  @Test
  void aRefundWrittenUnderPartnerKeysIsResentWithThemAfterASwitchBack() {
    assertThat(world.usePartner(origin, "switch-vendor").status()).isEqualTo(200);
    world.sale(origin, "switch-a-b-1", 9000);
    world
        .vipps
        .sandbox()
        .inject(Fault.reset().on(Fault.Target.REFUND).forReference("switch-a-b-1").times(2));
    HttpResult reply = world.refund(till, "sw-3", refundBody("switch-a-b-1", 3000));
    assertThat(reply.status()).as(reply.toString()).isEqualTo(202);
    String refundId = reply.json().getString("refundId");

    assertThat(world.usePartner(origin, null).status()).isEqualTo(200);
    world.reconcileUntilResolved(5);

    assertThat(world.broker.get("/v1/refunds/" + refundId, till.token()).json().getString("status"))
        .isEqualTo("SUCCEEDED");
    assertThat(world.ledger())
        .filteredOn(e -> e.reference().equals("switch-a-b-1"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.partnerId()).isEqualTo("switch-vendor");
              assertThat(e.clientId()).isEqualTo(vendor.clientId());
              assertThat(e.tokenMsn()).isEqualTo(origin.msn());
              assertThat(e.idempotencyKey()).isEqualTo(refundId);
            });
  }
}

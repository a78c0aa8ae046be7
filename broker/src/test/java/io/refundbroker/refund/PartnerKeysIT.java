package io.refundbroker.refund;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.PartnerKeys;
import io.refundbroker.testing.RefundWorld.Shop;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Option A of Vipps's POS FAQ: stores refunded with a partner's keys, the origin store's MSN in
 * {@code Merchant-Serial-Number} taken from the store record; the sandbox (a partner's token acts
 * only for its linked MSNs) is the independent checker.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PartnerKeysIT {
  private RefundWorld world;
  private Shop oslo;
  private Shop bergen;
  private Shop tromso;

  @BeforeAll
  void start() {
    world = RefundWorld.start();
    oslo = world.shop("oslo", "acme", "223456");
    bergen = world.shop("bergen", "acme", "254321");
    tromso = world.shop("tromso", "acme", "277001");
  }

  @AfterEach
  void specsHold() {
    world.vipps.assertNoViolations();
  }

  @AfterAll
  void stop() {
    world.close();
  }

  @Test
  void aCrossStoreRefundUnderPartnerKeysCarriesThePartnersKeysAndTheOriginsMsn() {
    PartnerKeys vendor = world.partner("pos-vendor", oslo.msn(), bergen.msn(), tromso.msn());
    assertThat(world.usePartner(oslo, "pos-vendor").status()).isEqualTo(200);
    assertThat(world.usePartner(tromso, "pos-vendor").status()).isEqualTo(200);
    world.sale(oslo, "oslo-a-000001", 49900);
    world.sale(tromso, "tromso-a-000001", 10000);
    world.vipps.sandbox().clearRequests();

    HttpResult refund = world.refund(bergen, "a-1", refundBody("oslo-a-000001", 15000));
    assertThat(refund.status()).as(refund.toString()).isEqualTo(201);
    assertThat(refund.json().getString("status")).isEqualTo("SUCCEEDED");
    HttpResult second = world.refund(bergen, "a-2", refundBody("tromso-a-000001", 5000));
    assertThat(second.status()).as(second.toString()).isEqualTo(201);

    LedgerEntry applied =
        world.ledger().stream()
            .filter(e -> e.reference().equals("oslo-a-000001"))
            .findFirst()
            .orElseThrow();
    assertThat(applied.partnerId()).as("the sandbox saw partner P act").isEqualTo("pos-vendor");
    assertThat(applied.tokenMsn()).as("... for MSN A").isEqualTo(oslo.msn());
    assertThat(applied.msn()).isEqualTo(oslo.msn());
    assertThat(applied.clientId()).isEqualTo(vendor.clientId());

    List<RecordedRequest> refunds =
        world.vipps.sandbox().requests().stream()
            .filter(r -> r.path().equals("/epayment/v1/payments/oslo-a-000001/refund"))
            .toList();
    assertThat(refunds).singleElement();
    RecordedRequest call = refunds.get(0);
    assertThat(call.header(VippsHeaders.MSN)).contains(oslo.msn());
    assertThat(call.header(VippsHeaders.SUBSCRIPTION_KEY))
        .contains(vendor.subscriptionKey().reveal());

    List<RecordedRequest> tokenFetches = world.vipps.requestsTo("/accesstoken/get");
    assertThat(tokenFetches)
        .as("one cached token for the partner, whichever store's MSN it acts for")
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.header(VippsHeaders.CLIENT_ID)).contains(vendor.clientId());
              assertThat(r.header(VippsHeaders.MSN))
                  .as("a partner's token request names no MSN")
                  .isEmpty();
            });
    for (RecordedRequest request : world.vipps.sandbox().requests()) {
      assertThat(request.header(VippsHeaders.CLIENT_ID))
          .as("Store A's own keys are not used under option A")
          .isNotEqualTo(Optional.of(oslo.keys().clientId()));
    }

    String refundId = refund.json().getString("refundId");
    assertThat(
            world
                .broker
                .database()
                .query(
                    "SELECT partner_id, credentials_version FROM refunds WHERE refund_id = ?::uuid",
                    refundId)
                .get(0))
        .containsEntry("partner_id", "pos-vendor")
        .containsEntry("credentials_version", 1);
    String auditor = world.broker.issueToken("AUDITOR", null);
    JsonObject logged =
        world
            .broker
            .get("/v1/audit/refunds?orderId=oslo-a-000001", auditor)
            .json()
            .getJsonArray("refunds")
            .getJsonObject(0);
    assertThat(logged.getString("partnerId"))
        .as("the refund log names the key set")
        .isEqualTo("pos-vendor");
    assertThat(logged.getInteger("credentialsVersion")).isEqualTo(1);
    AuditLinks.await(world.broker.database());
    List<Map<String, Object>> events =
        world
            .broker
            .database()
            .query(
                "SELECT action, details FROM audit_events WHERE subject_type = 'refund'"
                    + " AND subject_id = ? ORDER BY seq",
                refundId);
    assertThat(events)
        .extracting(e -> e.get("action"))
        .containsExactly("refund.requested", "refund.succeeded");
    for (Map<String, Object> event : events) {
      JsonObject keys = new JsonObject(String.valueOf(event.get("details"))).getJsonObject("keys");
      assertThat(keys)
          .isEqualTo(
              new JsonObject()
                  .put("holder", "partner")
                  .put("version", 1)
                  .put("partnerId", "pos-vendor"));
    }
  }

  @Test
  void aPartnerNotLinkedToTheOriginsMsnIsRefusedAndRecordedAsARefusal() {
    world.partner("narrow-vendor", bergen.msn());
    Shop drammen = world.shop("drammen", "acme", "288123");
    assertThat(world.usePartner(drammen, "narrow-vendor").status()).isEqualTo(200);
    world.sale(drammen, "drammen-a-0001", 20000);

    HttpResult refund = world.refund(bergen, "n-1", refundBody("drammen-a-0001", 5000));
    assertProblem(refund, 502, "ORIGIN_CREDENTIALS_REJECTED");
    awaitSandbox(world);
    assertThat(world.ledger()).noneMatch(e -> e.reference().equals("drammen-a-0001"));
    assertThat(
            world.vipps.sandbox().requests().stream()
                .filter(r -> r.path().equals("/epayment/v1/payments/drammen-a-0001/refund"))
                .toList())
        .as("the call was made, with drammen's MSN, and refused by Vipps")
        .singleElement()
        .satisfies(r -> assertThat(r.header(VippsHeaders.MSN)).contains(drammen.msn()));
    List<Map<String, Object>> stored =
        world
            .broker
            .database()
            .query(
                "SELECT status, failure_code, upstream_status, partner_id FROM refunds"
                    + " WHERE order_id = 'drammen-a-0001'");
    assertThat(stored).singleElement();
    assertThat(stored.get(0))
        .containsEntry("status", "FAILED")
        .containsEntry("upstream_status", 403)
        .containsEntry("partner_id", "narrow-vendor");
    assertThat(world.unresolved()).isZero();
    assertProblem(
        world.broker.get("/v1/orders/drammen-a-0001", bergen.token()),
        502,
        "VIPPS_CREDENTIALS_REJECTED");
  }

  @Test
  void aStoreCannotNameAPartnerWithoutKeys() {
    Shop molde = world.shop("molde", "acme", "299001");
    assertProblem(world.usePartner(molde, "nobody"), 422, "PARTNER_NOT_FOUND");
    assertThat(
            world.broker.get("/v1/admin/stores/molde", world.broker.adminToken()).json().getMap())
        .doesNotContainKey("partnerId");
  }

  @Test
  void partnerKeysRotateAndRollBackLikeStoreKeys() {
    Shop alta = world.shop("alta", "acme", "266001");
    PartnerKeys v1 = world.partner("rotating-vendor", alta.msn(), bergen.msn());
    assertThat(world.usePartner(alta, "rotating-vendor").status()).isEqualTo(200);
    world.sale(alta, "alta-r-000001", 30000);
    assertThat(world.refund(bergen, "r-1", refundBody("alta-r-000001", 1000)).status())
        .isEqualTo(201);

    PartnerKeys v2 =
        new PartnerKeys(
            "rotating-vendor", "c2-" + v1.clientId(), v1.clientSecret(), v1.subscriptionKey());
    String path = "/v1/admin/partners/rotating-vendor/credentials";
    HttpResult refused = world.storePartnerKeys(v2);
    assertProblem(refused, 422, "CREDENTIALS_REJECTED");
    world.linkPartner(v2, alta.msn(), bergen.msn());
    HttpResult rotated = world.storePartnerKeys(v2);
    assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
    assertThat(rotated.json().getMap())
        .containsEntry("partnerId", "rotating-vendor")
        .containsEntry("version", 2)
        .containsEntry("previousVersion", 1)
        .containsEntry("validated", true);

    HttpResult after = world.refund(bergen, "r-2", refundBody("alta-r-000001", 1000));
    assertThat(after.status()).as("the new keys are used at once").isEqualTo(201);
    assertThat(world.ledger())
        .filteredOn(e -> e.reference().equals("alta-r-000001"))
        .extracting(LedgerEntry::clientId)
        .containsExactly(v1.clientId(), v2.clientId());

    HttpResult rollback =
        world.broker.post(path + "/rollback", world.broker.adminToken(), version(1));
    assertProblem(rollback, 422, "CREDENTIALS_REJECTED");
    world.linkPartner(v1, alta.msn(), bergen.msn());
    rollback = world.broker.post(path + "/rollback", world.broker.adminToken(), version(1));
    assertThat(rollback.status()).as(rollback.toString()).isEqualTo(200);
    assertThat(rollback.json().getMap())
        .containsEntry("version", 3)
        .containsEntry("restoredVersion", 1);
    assertThat(world.refund(bergen, "r-3", refundBody("alta-r-000001", 1000)).status())
        .isEqualTo(201);

    HttpResult history = world.broker.get(path, world.broker.adminToken());
    assertThat(history.status()).isEqualTo(200);
    assertThat(history.json().getInteger("currentVersion")).isEqualTo(3);
    assertThat(history.json().getJsonArray("versions")).hasSize(3);
    for (HttpResult answer : List.of(rotated, rollback, history)) {
      assertThat(answer.text())
          .doesNotContain(v1.clientSecret().reveal())
          .doesNotContain(v1.subscriptionKey().reveal())
          .doesNotContain(v1.clientId());
    }
    assertProblem(
        world.broker.send(
            HttpMethod.PUT,
            path,
            bergen.token(),
            new JsonObject()
                .put("clientId", "x")
                .put("clientSecret", "y")
                .put("subscriptionKey", "z")),
        403,
        "FORBIDDEN");

    AuditLinks.await(world.broker.database());
    List<Map<String, Object>> audited =
        world
            .broker
            .database()
            .query(
                "SELECT action FROM audit_events WHERE subject_type = 'partner'"
                    + " AND subject_id = 'rotating-vendor' ORDER BY seq");
    assertThat(audited)
        .extracting(e -> e.get("action"))
        .containsExactly("credential.rotated", "credential.rotated", "credential.rolled_back");
  }

  private static JsonObject version(int version) {
    return new JsonObject().put("version", version);
  }

  private static void awaitSandbox(RefundWorld world) {
    io.refundbroker.testing.Await.result(world.vipps.sandbox().whenIdle());
  }
}

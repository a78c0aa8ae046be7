package io.refundbroker.refund;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HoldingRelay;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Freezing a store contains it both ways: its payments cannot be refunded, and it cannot request
 * refunds of other stores' payments (a compromised till stops at once). The problem says which side
 * is frozen, and the check holds inside the write-ahead transaction.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FrozenStoreIT {
  private HoldingRelay relay;
  private RefundWorld world;
  private Shop oslo;
  private Shop bergen;
  private Shop trondheim;

  @BeforeAll
  void start() {
    world =
        RefundWorld.start(
            (sandbox, broker) -> {
              relay = HoldingRelay.start(sandbox.vertx(), sandbox.sandbox().port());
              broker.env("VIPPS_BASE_URL", relay.baseUrl());
            });
    oslo =
        world.shop(
            "oslo",
            "acme",
            "123456",
            VippsApi.EPAYMENT,
            new JsonObject().put("orderIdPrefix", "123456-"));
    bergen = world.shop("bergen", "acme", "654321");
    trondheim = world.shop("trondheim", "acme", "111222");
  }

  @AfterEach
  void thawAndCheck() {
    freeze(bergen, false);
    freeze(oslo, false);
    world.vipps.assertNoViolations();
  }

  @AfterAll
  void stop() {
    relay.close();
    world.close();
  }

  private void freeze(Shop shop, boolean frozen) {
    HttpResult result =
        world.broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/" + shop.storeId(),
            world.broker.adminToken(),
            new JsonObject().put("frozen", frozen));
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
  }

  private long refundsOf(String orderId) {
    return world
        .broker
        .database()
        .queryLong("SELECT count(*) FROM refunds WHERE order_id = ?", orderId);
  }

  @Test
  void aFrozenStoreCannotRequestRefundsOfOtherStoresPayments() {
    world.sale(oslo, "123456-f-1", 40000);
    freeze(bergen, true);
    long vippsCalls = world.refundCalls();

    JsonObject problem =
        assertProblem(
            world.refund(bergen, "frozen-req-1", refundBody("123456-f-1", 1000)),
            403,
            "STORE_FROZEN");
    assertThat(problem.getString("frozen")).isEqualTo("requesting");
    assertThat(problem.getString("frozenStoreId")).isEqualTo("bergen");
    assertThat(problem.getString("detail")).contains("bergen").contains("requesting");
    assertThat(refundsOf("123456-f-1")).isZero();
    assertThat(world.refundCalls()).isEqualTo(vippsCalls);

    assertThat(world.refund(trondheim, "frozen-req-2", refundBody("123456-f-1", 1000)).status())
        .as("other stores still refund the payment")
        .isEqualTo(201);
  }

  @Test
  void aFrozenStoresPaymentsCannotBeRefundedAndTheProblemSaysSo() {
    world.sale(oslo, "123456-f-2", 40000);
    freeze(oslo, true);
    JsonObject problem =
        assertProblem(
            world.refund(bergen, "frozen-origin-1", refundBody("123456-f-2", 1000)),
            403,
            "STORE_FROZEN");
    assertThat(problem.getString("frozen")).isEqualTo("origin");
    assertThat(problem.getString("frozenStoreId")).isEqualTo("oslo");
    assertThat(problem.getString("detail")).contains("oslo").contains("origin");
    assertThat(refundsOf("123456-f-2")).isZero();
  }

  @Test
  void aFreezeThatLandsWhileTheRefundIsPreparedStillStopsIt() {
    // Not registered: preparing the refund reads the payment from Vipps, and the relay holds that
    // read until a second one arrives.
    world.captured(oslo, "123456-f-3", 40000);
    String payment = "/epayment/v1/payments/123456-f-3";
    relay.holdUntil(payment, 2);
    Future<HttpResult> refund =
        world.refundAsync(bergen, "frozen-race-1", refundBody("123456-f-3", 1000));
    Poll.until(
        "the refund's payment read is held", Duration.ofSeconds(10), () -> relay.held() == 1);

    freeze(bergen, true);
    // Oslo's own look-up of the payment is the second read: both go through.
    assertThat(world.broker.get("/v1/orders/123456-f-3", oslo.token()).status()).isEqualTo(200);

    JsonObject problem = assertProblem(Await.result(refund), 403, "STORE_FROZEN");
    assertThat(problem.getString("frozen")).isEqualTo("requesting");
    assertThat(refundsOf("123456-f-3")).isZero();
  }
}

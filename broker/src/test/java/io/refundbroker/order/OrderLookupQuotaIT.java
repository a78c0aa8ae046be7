package io.refundbroker.order;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Reading another store's payment from Vipps uses that store's Vipps quota, so a client may do it
 * only {@code ORDER_LOOKUPS_PER_MINUTE} times a minute: one till cannot spend a sibling's quota.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OrderLookupQuotaIT {
  private RefundWorld world;
  private Shop oslo;
  private Shop bergen;

  @BeforeAll
  void start() {
    world = RefundWorld.start(broker -> broker.env("ORDER_LOOKUPS_PER_MINUTE", "3"));
    oslo =
        world.shop(
            "oslo",
            "acme",
            "123456",
            VippsApi.EPAYMENT,
            new JsonObject().put("orderIdPrefix", "123456-"));
    bergen = world.shop("bergen", "acme", "654321");
    world.sale(oslo, "123456-q-1", 40000);
    world.captured(oslo, "123456-q-walkin", 40000);
  }

  @AfterAll
  void stop() {
    world.vipps.assertNoViolations();
    world.close();
  }

  private long paymentReads() {
    return world.vipps.requestsTo("/epayment/v1/payments/123456-q-1").size();
  }

  @Test
  void aClientReadsOtherStoresPaymentsWithinItsQuotaOnly() {
    for (int i = 0; i < 3; i++) {
      assertThat(world.broker.get("/v1/orders/123456-q-1", bergen.token()).status()).isEqualTo(200);
    }
    long reads = paymentReads();
    HttpResult over = world.broker.get("/v1/orders/123456-q-1", bergen.token());
    JsonObject problem = assertProblem(over, 429, "TOO_MANY_LOOKUPS");
    assertThat(over.header("Retry-After")).isEqualTo("20");
    assertThat(problem.getLong("retryAfterSeconds")).isEqualTo(20);
    assertThat(problem.getString("detail")).contains("ORDER_LOOKUPS_PER_MINUTE");
    assertThat(paymentReads()).as("a refused look-up does not reach Vipps").isEqualTo(reads);

    // An unregistered order of another store is read from Vipps to be refunded: same quota.
    assertProblem(
        world.refund(bergen, "quota-1", refundBody("123456-q-walkin", 1000)),
        429,
        "TOO_MANY_LOOKUPS");
    assertThat(
            world
                .broker
                .database()
                .queryLong("SELECT count(*) FROM refunds WHERE order_id = ?", "123456-q-walkin"))
        .isZero();
    // A registered one is not read from Vipps.
    assertThat(world.refund(bergen, "quota-2", refundBody("123456-q-1", 1000)).status())
        .isEqualTo(201);

    for (int i = 0; i < 5; i++) {
      assertThat(world.broker.get("/v1/orders/123456-q-1", oslo.token()).status())
          .as("a store's own payments use its own keys and are not counted")
          .isEqualTo(200);
    }
    String secondTill = world.broker.issueToken("STORE", "bergen");
    assertThat(world.broker.get("/v1/orders/123456-q-1", secondTill).status())
        .as("the quota is per client")
        .isEqualTo(200);

    world.advance(Duration.ofSeconds(20));
    assertThat(world.broker.get("/v1/orders/123456-q-1", bergen.token()).status())
        .as("a look-up comes back every 60/3 seconds")
        .isEqualTo(200);
    assertProblem(
        world.broker.get("/v1/orders/123456-q-1", bergen.token()), 429, "TOO_MANY_LOOKUPS");
  }
}

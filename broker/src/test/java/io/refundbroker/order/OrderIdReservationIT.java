package io.refundbroker.order;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.nok;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A store's order-id prefix reserves the ids that carry it: a sibling store cannot register (or
 * have imported) such an id and thereby take over the prefix owner's payments, and a registration
 * that collides with a prefix anyway (made before the prefix was set) makes the id ambiguous
 * instead of silently winning.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OrderIdReservationIT {
  private RefundWorld world;
  private Shop oslo;
  private Shop bergen;
  private Shop trondheim;
  private Shop elsewhere;

  @BeforeAll
  void start() {
    world = RefundWorld.start();
    oslo =
        world.shop(
            "oslo",
            "acme",
            "123456",
            VippsApi.EPAYMENT,
            new JsonObject().put("orderIdPrefix", "123456-"));
    bergen = world.shop("bergen", "acme", "654321");
    trondheim = world.shop("trondheim", "acme", "111222");
    elsewhere = world.shop("elsewhere", "other-chain", "999000");
  }

  @AfterEach
  void specsHold() {
    world.vipps.assertNoViolations();
  }

  @AfterAll
  void stop() {
    world.close();
  }

  private HttpResult register(Shop shop, String orderId, long value) {
    return world.broker.post(
        "/v1/orders",
        shop.token(),
        new JsonObject().put("orderId", orderId).put("amount", nok(value)));
  }

  private long orders(String orderId) {
    return world
        .broker
        .database()
        .queryLong("SELECT count(*) FROM orders WHERE order_id = ?", orderId);
  }

  @Test
  void aSiblingCannotRegisterAnOrderIdCarryingAnotherStoresPrefix() {
    JsonObject problem =
        assertProblem(register(bergen, "123456-squat-1", 49900), 409, "ORDER_ID_RESERVED");
    assertThat(problem.getString("ownerStoreId")).isEqualTo("oslo");
    assertThat(problem.getString("detail")).contains("oslo").contains("123456-");
    assertThat(orders("123456-squat-1")).isZero();

    assertThat(register(oslo, "123456-own-1", 49900).status())
        .as("the prefix's own store registers its ids")
        .isEqualTo(201);
    assertThat(register(elsewhere, "123456-other-chain-1", 49900).status())
        .as("a prefix reserves ids within its chain only")
        .isEqualTo(201);
  }

  @Test
  void theOwnersRefundOfItsPaymentIsNotHijacked() {
    world.captured(oslo, "123456-walkin-9", 30000);
    assertProblem(register(bergen, "123456-walkin-9", 30000), 409, "ORDER_ID_RESERVED");
    HttpResult refund = world.refund(trondheim, "hijack-1", refundBody("123456-walkin-9", 10000));
    assertThat(refund.status()).as(refund.toString()).isEqualTo(201);
    assertThat(refund.json().getString("originStoreId")).isEqualTo("oslo");
  }

  @Test
  void anImportRowCarryingAnotherStoresPrefixIsRejected() {
    String csv =
        "storeId,orderId,amount,currency,capturedAt\n"
            + "bergen,123456-imp-1,1000,NOK,\n"
            + "oslo,123456-imp-2,1000,NOK,\n";
    HttpResult result =
        world.broker.send(
            HttpMethod.POST,
            "/v1/admin/orders/import",
            world.broker.adminToken(),
            Buffer.buffer(csv),
            Map.of("Content-Type", "text/plain"));
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    assertThat(result.json().getInteger("imported")).isEqualTo(1);
    JsonArray rejected = result.json().getJsonArray("rejected");
    assertThat(rejected).hasSize(1);
    JsonObject row = rejected.getJsonObject(0);
    assertThat(row.getInteger("line")).isEqualTo(2);
    assertThat(row.getString("code")).isEqualTo("ORDER_ID_RESERVED");
    assertThat(row.getString("reason")).contains("oslo");
    assertThat(orders("123456-imp-1")).isZero();
  }

  @Test
  void aRegistrationThatCollidesWithAPrefixIsAmbiguousNotAWinner() {
    Shop tromso = world.shop("tromso", "north", "223300");
    Shop bodo = world.shop("bodo", "north", "223311");
    Shop alta = world.shop("alta", "north", "223322");
    // Bodø registers an id before Tromsø takes the prefix it carries.
    assertThat(register(bodo, "223300-77", 25000).status()).isEqualTo(201);
    HttpResult prefixed =
        world.broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/tromso",
            world.broker.adminToken(),
            new JsonObject().put("orderIdPrefix", "223300-"));
    assertThat(prefixed.status()).isEqualTo(200);
    world.captured(tromso, "223300-77", 25000);

    JsonObject lookup =
        assertProblem(
            world.broker.get("/v1/orders/223300-77", alta.token()), 409, "ORDER_AMBIGUOUS");
    assertThat(lookup.getJsonArray("candidates"))
        .extracting(c -> ((JsonObject) c).getString("storeId"))
        .containsExactly("bodo", "tromso");
    assertProblem(
        world.refund(tromso, "collide-1", refundBody("223300-77", 5000)), 409, "ORDER_AMBIGUOUS");

    HttpResult chosen =
        world.refund(
            tromso, "collide-2", refundBody("223300-77", 5000).put("originStoreId", "tromso"));
    assertThat(chosen.status()).as(chosen.toString()).isEqualTo(201);
    assertThat(chosen.json().getString("originStoreId")).isEqualTo("tromso");
  }
}

package io.refundbroker.order;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.nok;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OrderApiIT {
  private RefundWorld world;
  private Shop kiosk;
  private Shop mall;

  @BeforeAll
  void start() {
    world = RefundWorld.start();
    kiosk = world.shop("kiosk", "acme", "810001");
    mall = world.shop("mall", "acme", "810002");
  }

  @AfterAll
  void stop() {
    world.vipps.assertNoViolations();
    world.close();
  }

  private HttpResult register(Shop shop, JsonObject body) {
    return world.broker.post("/v1/orders", shop.token(), body);
  }

  @Test
  void registeringTheSameSaleTwiceIsIdempotentAndADifferentOneConflicts() {
    String capturedAt =
        Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
    JsonObject sale =
        new JsonObject()
            .put("orderId", "kiosk-0001")
            .put("amount", nok(1500))
            .put("capturedAt", capturedAt);
    HttpResult first = register(kiosk, sale);
    assertThat(first.status()).as(first.toString()).isEqualTo(201);
    assertThat(first.json().getString("storeId")).isEqualTo("kiosk");
    assertThat(first.json().getString("source")).isEqualTo("REGISTERED");
    HttpResult again = register(kiosk, sale);
    assertThat(again.status()).isEqualTo(200);
    assertProblem(register(kiosk, sale.copy().put("amount", nok(1600))), 409, "ORDER_CONFLICT");
    assertThat(register(mall, sale).status())
        .as("order ids are unique per store only")
        .isEqualTo(201);
    JsonObject withoutTime = new JsonObject().put("orderId", "kiosk-0002").put("amount", nok(700));
    assertThat(register(kiosk, withoutTime).status()).isEqualTo(201);
    assertThat(register(kiosk, withoutTime).status())
        .as("resending a sale without capturedAt is still the same sale")
        .isEqualTo(200);
    assertThat(
            world
                .broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM audit_events WHERE action = 'order.registered' AND subject_id = 'kiosk/kiosk-0001'"))
        .isEqualTo(1);
  }

  @Test
  void badOrdersAreRefusedWithReasons() {
    assertProblem(
        register(kiosk, new JsonObject().put("orderId", "has space").put("amount", nok(100))),
        400,
        "VALIDATION_FAILED");
    assertProblem(
        register(
            kiosk,
            new JsonObject()
                .put("orderId", "kiosk-x")
                .put("amount", new JsonObject().put("value", -5).put("currency", "NOK"))),
        400,
        "VALIDATION_FAILED");
    assertProblem(
        register(
            kiosk,
            new JsonObject()
                .put("orderId", "kiosk-x")
                .put("amount", new JsonObject().put("value", 5).put("currency", "SEK"))),
        400,
        "VALIDATION_FAILED");
    assertProblem(
        register(
            kiosk,
            new JsonObject()
                .put("orderId", "kiosk-x")
                .put("amount", nok(100))
                .put("capturedAt", "yesterday")),
        400,
        "VALIDATION_FAILED");
    assertProblem(
        register(
            kiosk,
            new JsonObject()
                .put("orderId", "kiosk-x")
                .put("amount", nok(100))
                .put("capturedAt", Instant.now().plus(1, ChronoUnit.DAYS).toString())),
        400,
        "CAPTURED_IN_FUTURE");
    assertProblem(
        world.broker.post(
            "/v1/orders",
            world.broker.adminToken(),
            new JsonObject().put("orderId", "kiosk-x").put("amount", nok(100))),
        403,
        "FORBIDDEN");
    assertThat(
            world
                .broker
                .database()
                .queryLong("SELECT count(*) FROM orders WHERE order_id = 'kiosk-x'"))
        .isZero();
  }

  @Test
  void theViewTakesAmountsFromVippsMinusRefundsInFlight() {
    world.sale(kiosk, "kiosk-0100", 20000);
    JsonObject view = world.broker.get("/v1/orders/kiosk-0100", mall.token()).json();
    assertThat(view.getString("originStoreName")).isEqualTo("Store kiosk");
    assertThat(view.getJsonObject("captured")).isEqualTo(nok(20000));
    assertThat(view.getBoolean("registered")).isTrue();
    assertThat(view.getString("refundableUntil")).isNotBlank();

    assertThat(world.refund(mall, "view-1", refundBody("kiosk-0100", 5000)).status())
        .isEqualTo(201);
    JsonObject after = world.broker.get("/v1/orders/kiosk-0100", mall.token()).json();
    assertThat(after.getJsonObject("refunded")).isEqualTo(nok(5000));
    assertThat(after.getJsonObject("inFlight")).isEqualTo(nok(0));
    assertThat(after.getJsonObject("refundable")).isEqualTo(nok(15000));
  }

  @Test
  void bulkImportReportsEveryRejectedRow() {
    String csv =
        String.join(
            "\n",
            "storeId,orderId,amount,currency,capturedAt",
            "kiosk,import-0001,12900,NOK,2026-01-15T10:00:00Z",
            "mall,import-0002,5000,nok,",
            "nowhere,import-0003,100,NOK,",
            "kiosk,import-0004,12.50,NOK,",
            "kiosk,bad id,100,NOK,",
            "kiosk,import-0005,100,SEK,",
            "kiosk,import-0006,100,NOK,last tuesday",
            "kiosk,import-0001,12900,NOK,2026-01-15T10:00:00Z",
            "kiosk,import-0001,99,NOK,2026-01-15T10:00:00Z",
            "kiosk,import-0007,100",
            "");
    HttpResult report =
        world.broker.send(
            HttpMethod.POST,
            "/v1/admin/orders/import",
            world.broker.adminToken(),
            Buffer.buffer(csv),
            Map.of("Content-Type", "text/plain"));
    assertThat(report.status()).as(report.toString()).isEqualTo(200);
    JsonObject body = report.json();
    assertThat(body.getInteger("rows")).isEqualTo(10);
    assertThat(body.getInteger("imported")).isEqualTo(2);
    assertThat(body.getInteger("unchanged")).isEqualTo(1);
    JsonArray rejected = body.getJsonArray("rejected");
    assertThat(rejected.stream().map(r -> ((JsonObject) r).getInteger("line")))
        .containsExactly(4, 5, 6, 7, 8, 10, 11);
    assertThat(rejected.getJsonObject(0).getString("code")).isEqualTo("STORE_NOT_FOUND");
    assertThat(rejected.getJsonObject(1).getString("reason")).contains("minor units");
    assertThat(rejected.getJsonObject(5).getString("code")).isEqualTo("ORDER_CONFLICT");
    assertThat(
            world
                .broker
                .database()
                .queryLong("SELECT count(*) FROM orders WHERE order_id LIKE 'import-%'"))
        .isEqualTo(2);
    assertThat(
            world
                .broker
                .database()
                .queryLong("SELECT count(*) FROM audit_events WHERE action = 'order.imported'"))
        .isEqualTo(1);

    HttpResult badHeader =
        world.broker.send(
            HttpMethod.POST,
            "/v1/admin/orders/import",
            world.broker.adminToken(),
            Buffer.buffer("order,amount\nx,1\n"),
            Map.of("Content-Type", "text/plain"));
    assertProblem(badHeader, 400, "CSV_INVALID");
    HttpResult byStore =
        world.broker.send(
            HttpMethod.POST,
            "/v1/admin/orders/import",
            kiosk.token(),
            Buffer.buffer(csv),
            Map.of("Content-Type", "text/plain"));
    assertProblem(byStore, 403, "FORBIDDEN");
  }
}

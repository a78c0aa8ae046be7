package io.refundbroker.refund;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.nok;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Store B refunds an order bought in Store A, through Vipps, with Store A's keys. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrossStoreRefundIT {
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

  @Test
  void storeBRefundsStoreAsOrderWithStoreAsKeys() {
    world.sale(oslo, "123456-order-0001", 49900);
    // Enrolment proved each store's own keys with Vipps; from here on only the refund counts.
    world.vipps.sandbox().clearRequests();

    HttpResult view = world.broker.get("/v1/orders/123456-order-0001", bergen.token());
    assertThat(view.status()).as(view.toString()).isEqualTo(200);
    assertThat(view.json().getString("originStoreId")).isEqualTo("oslo");
    assertThat(view.json().getJsonObject("refundable")).isEqualTo(nok(49900));

    HttpResult refund = world.refund(bergen, "till-7-0001", refundBody("123456-order-0001", 15000));
    assertThat(refund.status()).as(refund.toString()).isEqualTo(201);
    JsonObject body = refund.json();
    assertThat(body.getString("status")).isEqualTo("SUCCEEDED");
    assertThat(body.getString("originStoreId")).isEqualTo("oslo");
    assertThat(body.getString("requestingStoreId")).isEqualTo("bergen");
    assertThat(refund.header("Location")).isEqualTo("/v1/refunds/" + body.getString("refundId"));

    List<LedgerEntry> applied =
        world.ledger().stream().filter(e -> e.reference().equals("123456-order-0001")).toList();
    assertThat(applied)
        .singleElement()
        .satisfies(
            entry -> {
              assertThat(entry.msn()).isEqualTo(oslo.msn());
              assertThat(entry.tokenMsn()).isEqualTo(oslo.msn());
              assertThat(entry.clientId()).isEqualTo(oslo.keys().clientId());
              assertThat(entry.amount().value()).isEqualTo(15000);
              assertThat(entry.idempotencyKey()).isEqualTo(body.getString("refundId"));
            });
    List<RecordedRequest> sent = world.vipps.sandbox().requests();
    assertThat(sent).isNotEmpty();
    for (RecordedRequest request : sent) {
      assertThat(request.header("client_id"))
          .as("Store B's keys are never sent to Vipps")
          .isNotEqualTo(java.util.Optional.of(bergen.keys().clientId()));
      assertThat(request.header("Merchant-Serial-Number"))
          .isNotEqualTo(java.util.Optional.of(bergen.msn()));
    }

    JsonObject after = world.broker.get("/v1/orders/123456-order-0001", bergen.token()).json();
    assertThat(after.getJsonObject("refunded")).isEqualTo(nok(15000));
    assertThat(after.getJsonObject("refundable")).isEqualTo(nok(34900));

    String refundId = body.getString("refundId");
    assertThat(world.broker.get("/v1/refunds/" + refundId, oslo.token()).status()).isEqualTo(200);
    assertThat(world.broker.get("/v1/refunds/" + refundId, bergen.token()).status()).isEqualTo(200);
    assertProblem(
        world.broker.get("/v1/refunds/" + refundId, trondheim.token()), 404, "REFUND_NOT_FOUND");
    JsonArray listed =
        world
            .broker
            .get("/v1/refunds?orderId=123456-order-0001", oslo.token())
            .json()
            .getJsonArray("refunds");
    assertThat(listed).hasSize(1);

    AuditLinks.await(world.broker.database());
    List<Map<String, Object>> events =
        world
            .broker
            .database()
            .query(
                "SELECT action, details FROM audit_events WHERE subject_type = 'refund' AND subject_id = ?"
                    + " ORDER BY seq",
                refundId);
    assertThat(events)
        .extracting(e -> e.get("action"))
        .containsExactly("refund.requested", "refund.succeeded");
    JsonObject details = new JsonObject(String.valueOf(events.get(1).get("details")));
    assertThat(details.getString("requestingStoreId")).isEqualTo("bergen");
    assertThat(details.getString("originStoreId")).isEqualTo("oslo");
    assertThat(details.getInteger("credentialsVersion")).isEqualTo(1);
    assertThat(details.getString("vippsIdempotencyKey")).isEqualTo(refundId);
    assertThat(details.getInteger("upstreamStatus")).isEqualTo(200);
  }

  @Test
  void anUnregisteredOrderIsFoundByTheStorePrefix() {
    world.captured(oslo, "123456-walkin-77", 20000);
    HttpResult refund = world.refund(bergen, "prefix-1", refundBody("123456-walkin-77", 20000));
    assertThat(refund.status()).as(refund.toString()).isEqualTo(201);
    assertThat(
            world
                .broker
                .database()
                .query(
                    "SELECT source, amount_value FROM orders WHERE order_id = '123456-walkin-77'")
                .get(0))
        .containsEntry("source", "VIPPS")
        .containsEntry("amount_value", 20000L);
    HttpResult again = world.refund(bergen, "prefix-2", refundBody("123456-walkin-77", 1));
    assertProblem(again, 422, "REFUND_EXCEEDS_REFUNDABLE");
  }

  @Test
  void theSameOrderIdInTwoStoresIsAmbiguousUntilTheStoreIsPicked() {
    world.sale(oslo, "receipt-000123", 10000);
    world.sale(trondheim, "receipt-000123", 12000);
    HttpResult refund = world.refund(bergen, "amb-1", refundBody("receipt-000123", 5000));
    JsonObject problem = assertProblem(refund, 409, "ORDER_AMBIGUOUS");
    assertThat(
            problem.getJsonArray("candidates").stream()
                .map(c -> ((JsonObject) c).getString("storeId")))
        .containsExactlyInAnyOrder("oslo", "trondheim");
    assertProblem(
        world.broker.get("/v1/orders/receipt-000123", bergen.token()), 409, "ORDER_AMBIGUOUS");

    HttpResult picked =
        world.refund(
            bergen, "amb-2", refundBody("receipt-000123", 5000).put("originStoreId", "trondheim"));
    assertThat(picked.status()).as(picked.toString()).isEqualTo(201);
    assertThat(picked.json().getString("originStoreId")).isEqualTo("trondheim");
  }

  @Test
  void anEcomStoreIsRefundedThroughTheEcomApi() {
    Shop legacy = world.shop("drammen", "acme", "55667", VippsApi.ECOM, null);
    world.sale(legacy, "drammen-order-1", 30000);
    HttpResult refund = world.refund(bergen, "ecom-1", refundBody("drammen-order-1", 30000));
    assertThat(refund.status()).as(refund.toString()).isEqualTo(201);
    assertThat(world.ledger())
        .anySatisfy(
            e -> {
              assertThat(e.reference()).isEqualTo("drammen-order-1");
              assertThat(e.api()).isEqualTo(VippsApi.ECOM);
              assertThat(e.clientId()).isEqualTo(legacy.keys().clientId());
            });
  }

  @Test
  void refusalsWriteNothingAndCallNobody() {
    world.sale(oslo, "123456-order-0100", 10000);
    long calls = world.refundCalls();
    long refunds = world.broker.database().queryLong("SELECT count(*) FROM refunds");
    long events = world.broker.database().queryLong("SELECT count(*) FROM audit_events");

    JsonObject over =
        assertProblem(
            world.refund(bergen, "r-1", refundBody("123456-order-0100", 10001)),
            422,
            "REFUND_EXCEEDS_REFUNDABLE");
    assertThat(over.getJsonObject("refundable")).isEqualTo(nok(10000));
    assertProblem(
        world.refund(
            bergen,
            "r-2",
            refundBody("123456-order-0100", 100)
                .put("amount", new JsonObject().put("value", 100).put("currency", "EUR"))),
        422,
        "CURRENCY_MISMATCH");
    assertProblem(
        world.refund(elsewhere, "r-3", refundBody("123456-order-0100", 100)),
        404,
        "ORDER_NOT_FOUND");
    assertProblem(
        world.broker.get("/v1/orders/123456-order-0100", elsewhere.token()),
        404,
        "ORDER_NOT_FOUND");
    assertProblem(
        world.refund(bergen, "r-4", refundBody("no-such-order-9", 100)), 404, "ORDER_NOT_FOUND");
    assertProblem(
        world.broker.send(
            HttpMethod.POST, "/v1/refunds", bergen.token(), refundBody("123456-order-0100", 100)),
        400,
        "MISSING_PARAMETER");
    assertProblem(
        world.refund(bergen, "r-5", refundBody("123456-order-0100", 100).put("tip", 5)),
        400,
        "VALIDATION_FAILED");
    assertProblem(
        world.broker.post(
            "/v1/refunds", world.broker.adminToken(), refundBody("123456-order-0100", 100)),
        403,
        "FORBIDDEN");

    assertThat(world.refundCalls()).isEqualTo(calls);
    assertThat(world.broker.database().queryLong("SELECT count(*) FROM refunds"))
        .isEqualTo(refunds);
    assertThat(world.broker.database().queryLong("SELECT count(*) FROM audit_events"))
        .isEqualTo(events);
    assertThat(
            world
                .broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM idempotency_records WHERE idempotency_key LIKE 'r-%'"))
        .isZero();
  }

  @Test
  void aFrozenOriginStoreAndExceededLimitsAreRefusedWithoutCallingVipps() {
    Shop tromso = world.shop("tromso", "acme", "777111");
    Shop capped =
        world.shop(
            "alta",
            "acme",
            "777222",
            VippsApi.EPAYMENT,
            new JsonObject()
                .put(
                    "limits",
                    new JsonObject()
                        .put("currency", "NOK")
                        .put("perRefund", 5000)
                        .put("perDay", 8000)));
    world.sale(tromso, "tromso-order-1", 50000);
    world.sale(oslo, "123456-order-0200", 50000);
    long calls = world.refundCalls();

    HttpResult frozen =
        world.broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/tromso",
            world.broker.adminToken(),
            new JsonObject().put("frozen", true));
    assertThat(frozen.status()).isEqualTo(200);
    assertProblem(
        world.refund(bergen, "f-1", refundBody("tromso-order-1", 100)), 403, "STORE_FROZEN");

    assertProblem(
        world.refund(capped, "l-1", refundBody("123456-order-0200", 5001)), 422, "LIMIT_EXCEEDED");
    assertThat(world.refund(capped, "l-2", refundBody("123456-order-0200", 5000)).status())
        .isEqualTo(201);
    JsonObject perDay =
        assertProblem(
            world.refund(capped, "l-3", refundBody("123456-order-0200", 3001)),
            422,
            "LIMIT_EXCEEDED");
    assertThat(perDay.getString("detail")).contains("per day");
    assertThat(world.refund(capped, "l-4", refundBody("123456-order-0200", 3000)).status())
        .isEqualTo(201);

    assertThat(world.refundCalls())
        .as("only the two allowed refunds reached Vipps")
        .isEqualTo(calls + 2);
  }

  @Test
  void aRefusalByVippsFailsTheRefundAndReleasesTheReservation() {
    // The till registered more than Vipps captured (or part was refunded in the Vipps portal).
    world.captured(oslo, "123456-order-0300", 4000);
    HttpResult registered =
        world.broker.post(
            "/v1/orders",
            oslo.token(),
            new JsonObject().put("orderId", "123456-order-0300").put("amount", nok(10000)));
    assertThat(registered.status()).isEqualTo(201);

    JsonObject problem =
        assertProblem(
            world.refund(bergen, "v-1", refundBody("123456-order-0300", 6000)),
            422,
            "REFUND_EXCEEDS_REFUNDABLE");
    String refundId = problem.getString("refundId");
    assertThat(refundId).isNotNull();
    Map<String, Object> row =
        world
            .broker
            .database()
            .query("SELECT status, failure_code FROM refunds WHERE refund_id = ?::uuid", refundId)
            .get(0);
    assertThat(row)
        .containsEntry("status", "FAILED")
        .containsEntry("failure_code", "NOT_ENOUGH_REFUNDABLE");

    HttpResult smaller = world.refund(bergen, "v-2", refundBody("123456-order-0300", 4000));
    assertThat(smaller.status()).as(smaller.toString()).isEqualTo(201);

    HttpResult replay = world.refund(bergen, "v-1", refundBody("123456-order-0300", 6000));
    assertProblem(replay, 422, "REFUND_EXCEEDS_REFUNDABLE");
    assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(UUID.fromString(replay.json().getString("refundId")))
        .isEqualTo(UUID.fromString(refundId));
  }
}

package io.refundbroker.refund;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Option C of Vipps's POS FAQ: several stores on one sales unit (one MSN, one key set), told apart
 * by their order-id prefixes; policy, refund log and clearing stay per store.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SharedSalesUnitIT {
  private static final String MSN = "333001";
  private RefundWorld world;
  private Shop north;
  private Shop south;
  private Shop bergen;

  @BeforeAll
  void start() {
    world = RefundWorld.start();
    north =
        world.shop(
            "north", "shared", MSN, VippsApi.EPAYMENT, new JsonObject().put("orderIdPrefix", "N-"));
    south =
        world.shopOnSalesUnit(
            "south",
            north,
            new JsonObject()
                .put("orderIdPrefix", "S-")
                .put("limits", new JsonObject().put("currency", "NOK").put("perRefund", 5000)));
    bergen = world.shop("bergen-c", "shared", "333002");
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
  void aSharedSalesUnitNeedsAPrefixOfItsOwnPerStoreAndOneChain() {
    JsonObject third =
        new JsonObject()
            .put("storeId", "third")
            .put("name", "Third")
            .put("msn", MSN)
            .put("chainId", "shared");
    String admin = world.broker.adminToken();
    assertProblem(world.broker.post("/v1/admin/stores", admin, third), 409, "MSN_IN_USE");
    assertProblem(
        world.broker.post("/v1/admin/stores", admin, third.copy().put("orderIdPrefix", "N-1")),
        409,
        "MSN_IN_USE");
    assertProblem(
        world.broker.post(
            "/v1/admin/stores",
            admin,
            third.copy().put("orderIdPrefix", "T-").put("chainId", "another-chain")),
        409,
        "MSN_IN_USE");
    assertProblem(
        world.broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/south",
            admin,
            new JsonObject().putNull("orderIdPrefix")),
        409,
        "MSN_IN_USE");
    assertThat(world.broker.database().queryLong("SELECT count(*) FROM stores WHERE msn = ?", MSN))
        .isEqualTo(2);
  }

  @Test
  void thePrefixDecidesTheOriginStoreAndItsPolicyApplies() {
    world.captured(north, "N-000001", 10000);
    world.captured(south, "S-000001", 20000);
    world.vipps.sandbox().clearRequests();

    HttpResult toSouth = world.refund(bergen, "c-1", refundBody("S-000001", 3000));
    assertThat(toSouth.status()).as(toSouth.toString()).isEqualTo(201);
    assertThat(toSouth.json().getString("originStoreId")).isEqualTo("south");
    HttpResult toNorth = world.refund(bergen, "c-2", refundBody("N-000001", 4000));
    assertThat(toNorth.status()).as(toNorth.toString()).isEqualTo(201);
    assertThat(toNorth.json().getString("originStoreId")).isEqualTo("north");
    assertThat(world.ledger())
        .filteredOn(e -> e.reference().equals("S-000001") || e.reference().equals("N-000001"))
        .allSatisfy(
            e -> {
              assertThat(e.msn()).isEqualTo(MSN);
              assertThat(e.clientId()).as("one key set for the sales unit").isNotNull();
            })
        .extracting(e -> e.clientId())
        .containsOnly(north.keys().clientId());

    assertProblem(world.refund(south, "c-3", refundBody("N-000001", 6000)), 422, "LIMIT_EXCEEDED");
    HttpResult byNorth = world.refund(north, "c-4", refundBody("S-000001", 6000));
    assertThat(byNorth.status())
        .as("the limit is south's, not the sales unit's: " + byNorth)
        .isEqualTo(201);

    String admin = world.broker.adminToken();
    HttpResult frozen =
        world.broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/north",
            admin,
            new JsonObject().put("frozen", true));
    assertThat(frozen.status()).isEqualTo(200);
    try {
      JsonObject problem =
          assertProblem(
              world.refund(bergen, "c-5", refundBody("N-000001", 1000)), 403, "STORE_FROZEN");
      assertThat(problem.getString("frozenStoreId")).isEqualTo("north");
      assertThat(world.refund(bergen, "c-6", refundBody("S-000001", 1000)).status())
          .as("south, on the same MSN, is not frozen")
          .isEqualTo(201);
    } finally {
      world.broker.send(
          HttpMethod.PATCH, "/v1/admin/stores/north", admin, new JsonObject().put("frozen", false));
    }

    String auditor = world.broker.issueToken("AUDITOR", null);
    String month = YearMonth.now(ZoneOffset.UTC).toString();
    HttpResult clearing =
        world.broker.get("/v1/audit/clearing?chainId=shared&month=" + month, auditor);
    assertThat(clearing.status()).as(clearing.toString()).isEqualTo(200);
    JsonArray lines = clearing.json().getJsonArray("lines");
    List<String> pairs =
        lines.stream()
            .map(JsonObject.class::cast)
            .map(
                l ->
                    l.getString("requestingStoreId")
                        + ">"
                        + l.getString("originStoreId")
                        + "@"
                        + l.getString("originMsn")
                        + "="
                        + l.getInteger("refunds"))
            .toList();
    assertThat(pairs)
        .as("one settlement, but the statement says which shop refunded which shop's sale")
        .contains("bergen-c>south@" + MSN + "=2", "bergen-c>north@" + MSN + "=1")
        .contains("north>south@" + MSN + "=1");
  }

  @Test
  void theSalesUnitsKeysAreOneKeySetWhicheverStoreOrTheMsnRotatesThem() {
    String admin = world.broker.adminToken();
    int before =
        world
            .broker
            .get("/v1/admin/stores/north/credentials", admin)
            .json()
            .getInteger("currentVersion");

    var v2 = world.vipps.rotate(MSN, before + 1);
    HttpResult viaSouth =
        world.broker.send(
            HttpMethod.PUT,
            "/v1/admin/stores/south/credentials",
            admin,
            new JsonObject()
                .put("clientId", v2.clientId())
                .put("clientSecret", v2.clientSecret().reveal())
                .put("subscriptionKey", v2.subscriptionKey().reveal()));
    assertThat(viaSouth.status()).as(viaSouth.toString()).isEqualTo(200);
    assertThat(viaSouth.json().getInteger("version")).isEqualTo(before + 1);

    var v3 = world.vipps.rotate(MSN, before + 2);
    HttpResult viaMsn =
        world.broker.send(
            HttpMethod.PUT,
            "/v1/admin/salesunits/" + MSN + "/credentials",
            admin,
            new JsonObject()
                .put("clientId", v3.clientId())
                .put("clientSecret", v3.clientSecret().reveal())
                .put("subscriptionKey", v3.subscriptionKey().reveal()));
    assertThat(viaMsn.status()).as(viaMsn.toString()).isEqualTo(200);
    assertThat(viaMsn.json().getInteger("version")).isEqualTo(before + 2);
    assertThat(viaMsn.json().getJsonArray("storeIds"))
        .isEqualTo(new JsonArray().add("north").add("south"));

    for (String path :
        List.of(
            "/v1/admin/stores/north/credentials",
            "/v1/admin/stores/south/credentials",
            "/v1/admin/salesunits/" + MSN + "/credentials")) {
      HttpResult history = world.broker.get(path, admin);
      assertThat(history.json().getInteger("currentVersion")).as(path).isEqualTo(before + 2);
      assertThat(history.json().getJsonArray("versions")).as(path).hasSize(before + 2);
    }
    assertProblem(
        world.broker.get("/v1/admin/salesunits/399999/credentials", admin),
        404,
        "SALES_UNIT_NOT_FOUND");

    world.captured(north, "N-000777", 5000);
    HttpResult refund = world.refund(south, "c-k", refundBody("N-000777", 1000));
    assertThat(refund.status()).as(refund.toString()).isEqualTo(201);
    assertThat(world.ledger())
        .filteredOn(e -> e.reference().equals("N-000777"))
        .singleElement()
        .satisfies(e -> assertThat(e.clientId()).isEqualTo(v3.clientId()));
  }
}

package io.refundbroker.credential;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code GET /v1/admin/credentials} and the {@code credentials_age_seconds} gauge: each store's
 * current key version and how old it is, stale past {@code CREDENTIALS_MAX_AGE} (30 days here),
 * back to fresh after a rotation; never a key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CredentialAgeIT {
  private static final long DAY = Duration.ofDays(1).toSeconds();
  private RefundWorld world;

  @BeforeAll
  void start() {
    world = RefundWorld.start(broker -> broker.env("CREDENTIALS_MAX_AGE", "30d"));
  }

  @AfterAll
  void stop() {
    world.close();
  }

  @Test
  void keysAgeWithTheClockTurnStalePastTheMaximumAndAreFreshAfterARotation() {
    Shop shop = world.shop("age-oslo", "age", "570001");
    world.broker.createStore("age-nokeys", "age", "570002");
    JsonObject fresh = entry(list("age"), "age-oslo");
    assertThat(fresh.getInteger("currentVersion")).isEqualTo(1);
    assertThat(fresh.getLong("ageSeconds")).isBetween(0L, 60L);
    assertThat(fresh.getBoolean("stale")).isFalse();
    assertThat(fresh.getBoolean("validated")).isTrue();
    assertThat(fresh.getString("rotatedBy")).startsWith("cl_");
    JsonObject none = entry(list("age"), "age-nokeys");
    assertThat(none.getInteger("currentVersion")).isZero();
    assertThat(none.containsKey("ageSeconds")).isFalse();
    assertThat(none.getBoolean("stale")).isFalse();

    world.advance(Duration.ofDays(31));
    HttpResult old = list(null);
    assertThat(old.json().getLong("maxAgeSeconds")).isEqualTo(30 * DAY);
    JsonObject stale = entry(old, "age-oslo");
    assertThat(stale.getLong("ageSeconds")).isBetween(31 * DAY, 31 * DAY + 60);
    assertThat(stale.getBoolean("stale")).isTrue();
    assertThat(ageGauge("age-oslo")).isBetween(31.0 * DAY, 31.0 * DAY + 60);
    assertThat(world.broker.registry().find("credentials_max_age_seconds").gauge().value())
        .isEqualTo(30.0 * DAY);
    String metrics = world.broker.get("/metrics", null).text();
    assertThat(metrics).contains("credentials_age_seconds{store=\"age-oslo\"}");
    assertThat(metrics).doesNotContain(shop.keys().clientSecret().reveal());

    var next = world.vipps.rotate(shop.msn(), 2);
    HttpResult rotated =
        world.broker.send(
            HttpMethod.PUT,
            "/v1/admin/stores/age-oslo/credentials",
            world.broker.adminToken(),
            new JsonObject()
                .put("clientId", next.clientId())
                .put("clientSecret", next.clientSecret().reveal())
                .put("subscriptionKey", next.subscriptionKey().reveal()));
    assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
    HttpResult after = list("age");
    JsonObject renewed = entry(after, "age-oslo");
    assertThat(renewed.getInteger("currentVersion")).isEqualTo(2);
    assertThat(renewed.getBoolean("stale")).isFalse();
    assertThat(ageGauge("age-oslo")).isLessThan(60.0);
    assertThat(after.text())
        .doesNotContain(next.clientSecret().reveal())
        .doesNotContain(next.subscriptionKey().reveal())
        .doesNotContain(next.clientId());
  }

  @Test
  void onlyAdminsMayListKeyAges() {
    assertProblem(
        world.broker.get("/v1/admin/credentials", world.broker.issueToken("AUDITOR", null)),
        403,
        "FORBIDDEN");
    assertProblem(
        world.broker.get("/v1/admin/credentials?chainId=no%20such", world.broker.adminToken()),
        400,
        "VALIDATION_FAILED");
  }

  private HttpResult list(String chainId) {
    HttpResult result =
        world.broker.get(
            "/v1/admin/credentials" + (chainId == null ? "" : "?chainId=" + chainId),
            world.broker.adminToken());
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    return result;
  }

  private static JsonObject entry(HttpResult result, String storeId) {
    return result.json().getJsonArray("stores").stream()
        .map(JsonObject.class::cast)
        .filter(s -> s.getString("storeId").equals(storeId))
        .findFirst()
        .orElseThrow(() -> new AssertionError(storeId + " not in " + result));
  }

  private double ageGauge(String storeId) {
    Gauge gauge =
        world.broker.registry().find("credentials_age_seconds").tag("store", storeId).gauge();
    assertThat(gauge).as("gauge of " + storeId).isNotNull();
    return gauge.value();
  }
}

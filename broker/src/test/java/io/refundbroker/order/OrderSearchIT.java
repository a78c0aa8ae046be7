package io.refundbroker.order;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.nok;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.sandbox.Fault;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The cashier's search ({@code GET /v1/orders}) against a real PostgreSQL: chain isolation, each
 * filter, keyset paging while orders are registered, bad filters and roles. Each test uses a chain
 * of its own, so tests never see each other's orders.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OrderSearchIT {
  private static final long SEED = 20261130L;

  private RefundWorld world;

  /** A whole hour well in the past, so registrations with a capture time are never "future". */
  private Instant t0;

  @BeforeAll
  void start() {
    world = RefundWorld.start();
    t0 = world.now().minus(Duration.ofDays(10)).truncatedTo(ChronoUnit.HOURS);
  }

  @AfterAll
  void stop() {
    world.vipps.assertNoViolations();
    world.close();
  }

  @Test
  void anotherChainsMatchingOrderIsNeverFound() {
    Till kiosk = till("iso-kiosk", "iso-acme", "820001");
    Till mall = till("iso-mall", "iso-acme", "820002");
    Till rival = till("iso-rival", "iso-rivals", "820003");
    Instant at = t0.plus(Duration.ofHours(1));
    register(kiosk, "KIOSK-20261234", 12900, at);
    // The same sale in every respect, in a store of another chain; and an id that is equal.
    register(rival, "RIVAL-20261234", 12900, at);
    register(rival, "KIOSK-20261234", 12900, at);

    String day = "from=" + enc(t0) + "&to=" + enc(t0.plus(Duration.ofDays(1)));
    for (String query :
        List.of(
            "q=1234",
            "q=KIOSK-20261234",
            "amount=12900",
            day,
            "amount=12900&" + day,
            "q=2026&amount=12900&" + day)) {
      assertThat(hitIds(search(mall, query)))
          .as("a store of acme searching %s", query)
          .containsExactly("iso-kiosk/KIOSK-20261234");
      assertThat(hitIds(search(rival, query)))
          .as("the rival chain's own search for %s finds its orders", query)
          .allMatch(id -> id.startsWith("iso-rival/"))
          .isNotEmpty();
    }
    assertThat(hitIds(search(kiosk, "originStoreId=iso-rival")))
        .as("naming another chain's store finds nothing")
        .isEmpty();
    assertThat(hitIds(search(kiosk, "originStoreId=iso-rival&q=1234"))).isEmpty();
    assertThat(hitIds(search(rival, "originStoreId=iso-rival"))).hasSize(2);
  }

  @Test
  void eachFilterNarrowsTheChainsOrdersNewestFirst() {
    Till a = till("flt-a", "flt", "830001");
    Till b = till("flt-b", "flt", "830002");
    insert("flt-a", "FA-100001", 5000, t0.plus(Duration.ofHours(1)));
    insert("flt-a", "FA-100002", 7500, t0.plus(Duration.ofHours(2)));
    insert("flt-b", "fb-xy1000", 5000, t0.plus(Duration.ofHours(3)));
    insert("flt-b", "FB-200001", 5000, t0.minus(Duration.ofHours(23)));
    insert("flt-a", "FA-300001", 5000, null);
    String day = "from=" + enc(t0) + "&to=" + enc(t0.plus(Duration.ofDays(1)));

    assertThat(hitIds(search(a, "q=0001")))
        .as("a fragment anywhere in the id; an order without a capture time last")
        .containsExactly("flt-a/FA-100001", "flt-b/FB-200001", "flt-a/FA-300001");
    assertThat(hitIds(search(a, "q=XY10"))).as("ignoring case").containsExactly("flt-b/fb-xy1000");
    assertThat(hitIds(search(a, "q=fa-1"))).containsExactly("flt-a/FA-100002", "flt-a/FA-100001");
    assertThat(hitIds(search(a, "q=9999"))).isEmpty();
    assertThat(hitIds(search(a, "amount=5000")))
        .containsExactly(
            "flt-b/fb-xy1000", "flt-a/FA-100001", "flt-b/FB-200001", "flt-a/FA-300001");
    assertThat(hitIds(search(a, "amount=5000&" + day)))
        .containsExactly("flt-b/fb-xy1000", "flt-a/FA-100001");
    assertThat(hitIds(search(a, "from=" + enc(t0.plus(Duration.ofMinutes(90))))))
        .as("from is inclusive of later captures only")
        .containsExactly("flt-b/fb-xy1000", "flt-a/FA-100002");
    assertThat(hitIds(search(a, "from=" + enc(t0.plus(Duration.ofHours(2))))))
        .as("from is inclusive")
        .containsExactly("flt-b/fb-xy1000", "flt-a/FA-100002");
    assertThat(hitIds(search(a, "to=" + enc(t0.plus(Duration.ofHours(2))))))
        .as("to is exclusive, and an unknown capture time is not 'before' anything")
        .containsExactly("flt-a/FA-100001", "flt-b/FB-200001");
    assertThat(hitIds(search(a, "originStoreId=flt-b")))
        .containsExactly("flt-b/fb-xy1000", "flt-b/FB-200001");
    assertThat(hitIds(search(a, "originStoreId=flt-b&amount=7500"))).isEmpty();
    assertThat(hitIds(search(b, "q=0001&originStoreId=flt-a&" + day)))
        .containsExactly("flt-a/FA-100001");

    JsonObject hit = search(b, "q=100002").json().getJsonArray("orders").getJsonObject(0);
    assertThat(hit.getString("originStoreName")).isEqualTo("Store flt-a");
    assertThat(hit.getJsonObject("captured")).isEqualTo(nok(7500));
    assertThat(Instant.parse(hit.getString("capturedAt"))).isEqualTo(t0.plus(Duration.ofHours(2)));
    JsonObject undated = search(b, "q=300001").json().getJsonArray("orders").getJsonObject(0);
    assertThat(undated.containsKey("capturedAt")).isFalse();
  }

  @Test
  void eachHitShowsWhatTheBrokerRefundedAndHasInFlightWithoutAskingVipps() {
    Shop a = world.shop("tot-a", "tot", "840001");
    Shop b = world.shop("tot-b", "tot", "840002");
    insert("tot-a", "TOT-000777", 9000, t0.plus(Duration.ofHours(5)));
    insert("tot-a", "TOT-000778", 9000, t0.plus(Duration.ofHours(4)));
    world.captured(a, "TOT-000777", 9000);
    HttpResult refunded = world.refund(b, "tot-1", refundBody("TOT-000777", 1000));
    assertThat(refunded.status()).as(refunded.toString()).isEqualTo(201);
    world
        .vipps
        .sandbox()
        .inject(Fault.status(500).on(Fault.Target.REFUND).forReference("TOT-000777").times(2));
    HttpResult unknown = world.refund(b, "tot-2", refundBody("TOT-000777", 700));
    assertThat(unknown.status()).as(unknown.toString()).isEqualTo(202);
    Await.result(world.vipps.sandbox().whenIdle());
    int vippsRequests = world.vipps.sandbox().requests().size();

    HttpResult page = search(a, "q=TOT-0007&limit=5");
    assertThat(page.status()).as(page.toString()).isEqualTo(200);
    JsonObject first = page.json().getJsonArray("orders").getJsonObject(0);
    assertThat(first.getString("orderId")).isEqualTo("TOT-000777");
    assertThat(first.getJsonObject("refundedHere")).isEqualTo(nok(1000));
    assertThat(first.getJsonObject("inFlight")).isEqualTo(nok(700));
    JsonObject second = page.json().getJsonArray("orders").getJsonObject(1);
    assertThat(second.getString("orderId")).isEqualTo("TOT-000778");
    assertThat(second.getJsonObject("refundedHere")).isEqualTo(nok(0));
    assertThat(second.getJsonObject("inFlight")).isEqualTo(nok(0));
    Await.result(world.vipps.sandbox().whenIdle());
    assertThat(world.vipps.sandbox().requests()).as("no Vipps call per hit").hasSize(vippsRequests);
  }

  /**
   * Pages through 150 orders (with ties on the capture time, and some without one) seven at a time
   * while orders are registered through the API at the same moment as each page request — newer
   * than everything, equal to existing times and older. Every order that existed before paging must
   * come exactly once, in strict search order; no order twice.
   */
  @Test
  void pagingWhileOrdersAreRegisteredHasNoDuplicatesAndNoGaps() {
    Till a = till("pg-a", "pg", "850001");
    Till b = till("pg-b", "pg", "850002");
    Till c = till("pg-c", "pg", "850003");
    List<Till> shops = List.of(a, b, c);
    Random random = new Random(SEED);
    List<Instant> times = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      times.add(t0.minus(Duration.ofMinutes(37L * i)));
    }
    Set<String> before = new HashSet<>();
    for (int i = 0; i < 150; i++) {
      Till shop = shops.get(random.nextInt(shops.size()));
      String orderId = "PG-" + String.format("%06d", random.nextInt(1_000_000)) + "-" + i;
      Instant at = random.nextInt(15) == 0 ? null : times.get(random.nextInt(times.size()));
      insert(shop.storeId(), orderId, 4200, at);
      before.add(shop.storeId() + "/" + orderId);
    }

    List<JsonObject> seen = new ArrayList<>();
    String cursor = null;
    int added = 0;
    for (int page = 0; page < 100; page++) {
      List<Future<HttpResult>> registrations = new ArrayList<>();
      for (int k = 0; k < 3; k++) {
        Till shop = shops.get(random.nextInt(shops.size()));
        Instant at =
            switch (random.nextInt(3)) {
              case 0 -> t0.plus(Duration.ofMinutes(1 + random.nextInt(60)));
              case 1 -> times.get(random.nextInt(times.size()));
              default -> t0.minus(Duration.ofDays(2 + random.nextInt(5)));
            };
        registrations.add(registerAsync(shop, "PG-NEW-" + page + "-" + k, 4200, at));
      }
      Future<HttpResult> searched =
          world.broker.sendAsync(
              HttpMethod.GET,
              "/v1/orders?amount=4200&limit=7" + (cursor == null ? "" : "&cursor=" + cursor),
              b.token(),
              null,
              MultiMap.caseInsensitiveMultiMap());
      Await.result(Future.join(registrations), Duration.ofSeconds(30));
      registrations.forEach(r -> assertThat(r.result().status()).isEqualTo(201));
      added += registrations.size();
      HttpResult result = Await.result(searched, Duration.ofSeconds(30));
      assertThat(result.status()).as(result.toString()).isEqualTo(200);
      result.json().getJsonArray("orders").forEach(o -> seen.add((JsonObject) o));
      cursor = result.json().getString("nextCursor");
      if (cursor == null) {
        break;
      }
    }
    assertThat(cursor).as("paging ended").isNull();
    List<String> ids = seen.stream().map(OrderSearchIT::id).toList();
    assertThat(new HashSet<>(ids)).as("no order twice").hasSize(ids.size());
    assertThat(ids).as("every order that existed before paging").containsAll(before);
    for (int i = 1; i < seen.size(); i++) {
      assertThat(compare(seen.get(i - 1), seen.get(i)))
          .as("search order between %s and %s", id(seen.get(i - 1)), id(seen.get(i)))
          .isPositive();
    }
    assertThat(added).isPositive();
  }

  @Test
  void badFiltersAreProblemsNamingTheParameterAndWriteNothing() {
    Till a = till("bad-a", "bad", "860001");
    insert("bad-a", "BAD-000001", 100, t0);
    long audit = world.broker.database().queryLong("SELECT count(*) FROM audit_events");
    long orders = world.broker.database().queryLong("SELECT count(*) FROM orders");
    String at = enc(t0);
    Map<String, String[]> cases = new LinkedHashMap<>();
    cases.put("q=123", new String[] {"VALIDATION_FAILED", "'q'"});
    cases.put("q=12%2034", new String[] {"VALIDATION_FAILED", "'q'"});
    cases.put("q=12_34", new String[] {"VALIDATION_FAILED", "'q'"});
    cases.put("q=" + "1".repeat(51), new String[] {"VALIDATION_FAILED", "'q'"});
    cases.put("amount=0", new String[] {"VALIDATION_FAILED", "'amount'"});
    cases.put("amount=-5", new String[] {"VALIDATION_FAILED", "'amount'"});
    cases.put("amount=12.50", new String[] {"VALIDATION_FAILED", "'amount'"});
    cases.put("amount=abc", new String[] {"VALIDATION_FAILED", "'amount'"});
    cases.put("from=yesterday", new String[] {"INVALID_TIME", "'from'"});
    cases.put("to=2026-13-01T00:00:00Z", new String[] {"INVALID_TIME", "'to'"});
    cases.put("from=2026-11-30T00:00:00", new String[] {"INVALID_TIME", "'from'"});
    cases.put("from=" + at + "&to=" + at, new String[] {"INVALID_TIME_RANGE", "'from'"});
    cases.put(
        "from=" + enc(t0.plusSeconds(1)) + "&to=" + at,
        new String[] {"INVALID_TIME_RANGE", "'to'"});
    cases.put("q=0001&cursor=Zm9vYmFy", new String[] {"INVALID_CURSOR", "'cursor'"});
    cases.put("q=0001&cursor=not%2Bbase64", new String[] {"VALIDATION_FAILED", "'cursor'"});
    cases.put("q=0001&limit=0", new String[] {"VALIDATION_FAILED", "'limit'"});
    cases.put("q=0001&limit=51", new String[] {"VALIDATION_FAILED", "'limit'"});
    cases.put("originStoreId=no%20such", new String[] {"VALIDATION_FAILED", "'originStoreId'"});
    cases.put("", new String[] {"FILTER_REQUIRED", "'q'"});
    cases.put("limit=10", new String[] {"FILTER_REQUIRED", "'amount'"});
    for (Map.Entry<String, String[]> c : cases.entrySet()) {
      HttpResult result = search(a, c.getKey());
      assertThat(result.status()).as("%s: %s", c.getKey(), result).isEqualTo(400);
      assertThat(result.header("Content-Type")).startsWith("application/problem+json");
      assertThat(result.code()).as("%s: %s", c.getKey(), result).isEqualTo(c.getValue()[0]);
      assertThat(result.json().getString("detail"))
          .as("%s names the parameter", c.getKey())
          .contains(c.getValue()[1]);
    }
    // A cursor this search made is accepted (the INVALID_CURSOR above is about the value).
    String made = new OrderSearchQuery.Position(null, "bad-a", "BAD-000009").encode();
    assertThat(search(a, "q=0001&cursor=" + made).status()).isEqualTo(200);
    assertThat(world.broker.database().queryLong("SELECT count(*) FROM audit_events"))
        .isEqualTo(audit);
    assertThat(world.broker.database().queryLong("SELECT count(*) FROM orders")).isEqualTo(orders);
  }

  @Test
  void onlyAStoresTokenMaySearch() {
    till("role-a", "role", "870001");
    insert("role-a", "ROLE-000001", 100, t0);
    assertProblem(
        world.broker.get("/v1/orders?q=0001", world.broker.adminToken()), 403, "FORBIDDEN");
    assertProblem(
        world.broker.get("/v1/orders?q=0001", world.broker.issueToken("AUDITOR", null)),
        403,
        "FORBIDDEN");
    assertProblem(world.broker.get("/v1/orders?q=0001", null), 401, "UNAUTHORIZED");
  }

  /** A store of its own chain with a STORE token; no Vipps keys (the search never calls Vipps). */
  private record Till(String storeId, String token) {}

  private Till till(String storeId, String chainId, String msn) {
    world.broker.createStore(storeId, chainId, msn);
    return new Till(storeId, world.broker.issueToken("STORE", storeId));
  }

  private HttpResult search(Till till, String query) {
    return world.broker.get("/v1/orders" + (query.isEmpty() ? "" : "?" + query), till.token());
  }

  private HttpResult search(Shop shop, String query) {
    return search(new Till(shop.storeId(), shop.token()), query);
  }

  private static List<String> hitIds(HttpResult result) {
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    return result.json().getJsonArray("orders").stream().map(o -> id((JsonObject) o)).toList();
  }

  private static String id(JsonObject hit) {
    return hit.getString("originStoreId") + "/" + hit.getString("orderId");
  }

  /** Positive when {@code earlier} comes before {@code later} in search order. */
  private static int compare(JsonObject earlier, JsonObject later) {
    Instant x = time(earlier);
    Instant y = time(later);
    if (x == null || y == null) {
      if (x != y) {
        return x == null ? -1 : 1;
      }
    } else if (!x.equals(y)) {
      return x.compareTo(y);
    }
    int byStore = earlier.getString("originStoreId").compareTo(later.getString("originStoreId"));
    return byStore != 0
        ? byStore
        : earlier.getString("orderId").compareTo(later.getString("orderId"));
  }

  private static Instant time(JsonObject hit) {
    String at = hit.getString("capturedAt");
    return at == null ? null : Instant.parse(at);
  }

  private void register(Till shop, String orderId, long value, Instant capturedAt) {
    HttpResult result = Await.result(registerAsync(shop, orderId, value, capturedAt));
    assertThat(result.status()).as(result.toString()).isEqualTo(201);
  }

  private Future<HttpResult> registerAsync(
      Till shop, String orderId, long value, Instant capturedAt) {
    JsonObject body =
        new JsonObject()
            .put("orderId", orderId)
            .put("amount", nok(value))
            .put("capturedAt", capturedAt.toString());
    return world.broker.sendAsync(
        HttpMethod.POST, "/v1/orders", shop.token(), body, MultiMap.caseInsensitiveMultiMap());
  }

  /** An imported order written straight into the table (the trigger fills in its chain). */
  private void insert(String storeId, String orderId, long value, Instant capturedAt) {
    try (Connection c = world.broker.database().ownerConnection();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO orders (store_id, order_id, amount_value, currency, captured_at,"
                    + " source, registered_by) VALUES (?, ?, ?, 'NOK', ?, 'IMPORTED', 'test')")) {
      s.setString(1, storeId);
      s.setString(2, orderId);
      s.setLong(3, value);
      s.setObject(4, capturedAt == null ? null : capturedAt.atOffset(ZoneOffset.UTC));
      s.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String enc(Instant instant) {
    return URLEncoder.encode(instant.toString(), StandardCharsets.UTF_8);
  }
}

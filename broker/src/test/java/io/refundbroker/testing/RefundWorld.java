package io.refundbroker.testing;

import io.refundbroker.config.Secret;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;
import io.refundbroker.refund.RefundReconciler;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.SandboxOptions;
import io.refundbroker.sandbox.SandboxPartner;
import io.refundbroker.sandbox.SandboxPayment;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * A chain of stores wired end to end: the Vipps sandbox (every request checked against the official
 * specs), a broker pointing at it with a clock the test moves, stores whose keys are registered in
 * the sandbox and stored in the broker through the admin API (proved against the sandbox), and
 * STORE tokens. The reconciler's timer is parked; tests run passes themselves.
 */
public final class RefundWorld implements AutoCloseable {
  public final MutableClock clock;
  public final TestSandbox vipps;
  public final TestBroker broker;

  /** A store of the world: its id, MSN, Vipps keys and a STORE token. */
  public record Shop(
      String storeId,
      String chainId,
      String msn,
      VippsApi api,
      StoreCredentials keys,
      String token) {}

  /**
   * A partner of the world (option A): its id and keys, registered in the sandbox with the MSNs it
   * may act for and stored in the broker through the admin API.
   */
  public record PartnerKeys(
      String partnerId, String clientId, Secret clientSecret, Secret subscriptionKey) {}

  /** Starts a world; {@code configure} may add broker environment variables. */
  public static RefundWorld start(Consumer<TestBroker.Builder> configure) {
    return start((sandbox, builder) -> configure.accept(builder));
  }

  /**
   * Starts a world; {@code configure} sees the sandbox before the broker starts (e.g. to put a
   * {@link HoldingRelay} in front of it as {@code VIPPS_BASE_URL}).
   */
  public static RefundWorld start(BiConsumer<TestSandbox, TestBroker.Builder> configure) {
    return start(MutableClock.now(), false, configure);
  }

  /**
   * Starts a world whose sandbox keeps time by the broker's clock, so what the sandbox records
   * (e.g. when each request arrived, for per-payment rates) and token expiry move with {@link
   * #advance}.
   */
  public static RefundWorld startOnOneClock(Consumer<TestBroker.Builder> configure) {
    return start(MutableClock.now(), true, (sandbox, builder) -> configure.accept(builder));
  }

  private static RefundWorld start(
      MutableClock clock,
      boolean sandboxOnClock,
      BiConsumer<TestSandbox, TestBroker.Builder> configure) {
    TestSandbox vipps =
        sandboxOnClock
            ? TestSandbox.start(SandboxOptions.defaults().withClock(clock))
            : TestSandbox.start();
    try {
      TestBroker.Builder builder =
          TestBroker.builder()
              .clock(clock)
              .env("VIPPS_BASE_URL", vipps.baseUrl())
              // generous: a loaded machine's first calls (cold JIT) must not time out; a test that
              // wants Vipps calls to time out sets its own (RefundFaultsIT)
              .env("VIPPS_CONNECT_TIMEOUT", "5s")
              .env("VIPPS_READ_TIMEOUT", "5s")
              .env("VIPPS_MAX_ATTEMPTS", "2")
              .env("VIPPS_RETRY_BACKOFF", "5ms")
              .env("VIPPS_PAYMENT_CACHE_TTL", "0s")
              .env("RECONCILER_INTERVAL", "1h")
              .env("DATABASE_POOL_SIZE", "16");
      configure.accept(vipps, builder);
      return new RefundWorld(vipps, builder.start(), clock);
    } catch (RuntimeException | Error e) {
      vipps.close();
      throw e;
    }
  }

  private RefundWorld(TestSandbox vipps, TestBroker broker, MutableClock clock) {
    this.vipps = vipps;
    this.broker = broker;
    this.clock = clock;
  }

  public static RefundWorld start() {
    return start(builder -> {});
  }

  /** Moves the broker's clock (token and cache expiry, refund schedules, limits). */
  public void advance(Duration by) {
    clock.advance(by);
  }

  public Instant now() {
    return clock.instant();
  }

  /** Enrolls an ePayment store with keys proved against the sandbox, and issues it a token. */
  public Shop shop(String storeId, String chainId, String msn) {
    return shop(storeId, chainId, msn, VippsApi.EPAYMENT, null);
  }

  /** Enrolls a store; {@code extra} may add members to the store body (prefix, limits …). */
  public Shop shop(String storeId, String chainId, String msn, VippsApi api, JsonObject extra) {
    return shop(storeId, chainId, msn, api, extra, null);
  }

  /**
   * Enrolls an ePayment store whose Vipps keys are {@code keys} (registered in the sandbox as the
   * store's current keys, e.g. canary values), and issues it a token.
   */
  public Shop shop(String storeId, String chainId, String msn, StoreCredentials keys) {
    return shop(storeId, chainId, msn, VippsApi.EPAYMENT, null, keys);
  }

  private Shop shop(
      String storeId,
      String chainId,
      String msn,
      VippsApi api,
      JsonObject extra,
      StoreCredentials given) {
    JsonObject body =
        new JsonObject()
            .put("storeId", storeId)
            .put("name", "Store " + storeId)
            .put("msn", msn)
            .put("chainId", chainId)
            .put("api", api.wireName());
    if (extra != null) {
      body.mergeIn(extra);
    }
    HttpResult created = broker.post("/v1/admin/stores", broker.adminToken(), body);
    expect(created, 201, "create store " + storeId);
    StoreCredentials keys = given == null ? vipps.newStore(msn) : vipps.register(given);
    HttpResult stored =
        broker.send(
            HttpMethod.PUT,
            "/v1/admin/stores/" + storeId + "/credentials",
            broker.adminToken(),
            new JsonObject()
                .put("clientId", keys.clientId())
                .put("clientSecret", keys.clientSecret().reveal())
                .put("subscriptionKey", keys.subscriptionKey().reveal()));
    expect(stored, 200, "store keys of " + storeId);
    return new Shop(storeId, chainId, msn, api, keys, broker.issueToken("STORE", storeId));
  }

  /**
   * Enrolls a store on {@code sibling}'s sales unit (option C): the same MSN, so the same keys
   * (nothing new is stored), with {@code extra} members (its own {@code orderIdPrefix} …), and
   * issues it a token.
   */
  public Shop shopOnSalesUnit(String storeId, Shop sibling, JsonObject extra) {
    JsonObject body =
        new JsonObject()
            .put("storeId", storeId)
            .put("name", "Store " + storeId)
            .put("msn", sibling.msn())
            .put("chainId", sibling.chainId())
            .put("api", sibling.api().wireName())
            .mergeIn(extra);
    expect(broker.post("/v1/admin/stores", broker.adminToken(), body), 201, "create " + storeId);
    return new Shop(
        storeId,
        sibling.chainId(),
        sibling.msn(),
        sibling.api(),
        sibling.keys(),
        broker.issueToken("STORE", storeId));
  }

  /**
   * A partner with new random keys, linked at the sandbox to {@code msns} and stored in the broker
   * (proved against the sandbox).
   */
  public PartnerKeys partner(String partnerId, String... msns) {
    PartnerKeys keys =
        new PartnerKeys(
            partnerId,
            UUID.randomUUID().toString(),
            Secret.of("pcs-" + TestSandbox.randomHex(24)),
            Secret.of("psk-" + TestSandbox.randomHex(16)));
    linkPartner(keys, msns);
    HttpResult stored = storePartnerKeys(keys);
    expect(stored, 200, "partner keys of " + partnerId);
    return keys;
  }

  /** Makes {@code keys} the partner's keys at the sandbox, acting for {@code msns}. */
  public void linkPartner(PartnerKeys keys, String... msns) {
    vipps
        .sandbox()
        .registerPartner(
            new SandboxPartner(
                keys.partnerId(),
                keys.clientId(),
                keys.clientSecret(),
                keys.subscriptionKey(),
                Set.of(msns)));
  }

  /** {@code PUT /v1/admin/partners/{partnerId}/credentials} with {@code keys}. */
  public HttpResult storePartnerKeys(PartnerKeys keys) {
    return broker.send(
        HttpMethod.PUT,
        "/v1/admin/partners/" + keys.partnerId() + "/credentials",
        broker.adminToken(),
        new JsonObject()
            .put("clientId", keys.clientId())
            .put("clientSecret", keys.clientSecret().reveal())
            .put("subscriptionKey", keys.subscriptionKey().reveal()));
  }

  /** Switches {@code shop} to partner {@code partnerId}'s keys (null: back to its own). */
  public HttpResult usePartner(Shop shop, String partnerId) {
    JsonObject patch = new JsonObject();
    if (partnerId == null) {
      patch.putNull("partnerId");
    } else {
      patch.put("partnerId", partnerId);
    }
    return broker.send(
        HttpMethod.PATCH, "/v1/admin/stores/" + shop.storeId(), broker.adminToken(), patch);
  }

  /** A captured payment in the sandbox (Vipps side only). */
  public void captured(Shop shop, String reference, long value) {
    vipps
        .sandbox()
        .seedPayment(
            SandboxPayment.captured(
                shop.msn(), reference, shop.api(), new Money(value, "NOK"), Instant.now()));
  }

  /** A captured payment that the origin store also registers with the broker. */
  public void sale(Shop shop, String orderId, long value) {
    captured(shop, orderId, value);
    HttpResult registered =
        broker.post(
            "/v1/orders",
            shop.token(),
            new JsonObject().put("orderId", orderId).put("amount", nok(value)));
    expect(registered, 201, "register " + orderId);
  }

  public static JsonObject nok(long value) {
    return new Money(value, "NOK").toJson();
  }

  public static JsonObject refundBody(String orderId, long value) {
    return new JsonObject()
        .put("orderId", orderId)
        .put("amount", nok(value))
        .put("reason", "Returned goods");
  }

  public HttpResult refund(Shop requester, String key, JsonObject body) {
    return broker.send(
        HttpMethod.POST, "/v1/refunds", requester.token(), body, Map.of("Idempotency-Key", key));
  }

  public Future<HttpResult> refundAsync(Shop requester, String key, JsonObject body) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Idempotency-Key", key);
    return broker.sendAsync(HttpMethod.POST, "/v1/refunds", requester.token(), body, headers);
  }

  /** Applied refunds at the sandbox (after every request it received has been handled). */
  public List<LedgerEntry> ledger() {
    Await.result(vipps.sandbox().whenIdle());
    return vipps.sandbox().ledger();
  }

  /** Refund calls the sandbox received. */
  public long refundCalls() {
    Await.result(vipps.sandbox().whenIdle());
    return vipps.sandbox().requests().stream().filter(r -> r.path().endsWith("/refund")).count();
  }

  /** Refund calls the sandbox received for one payment reference. */
  public long refundCalls(String reference) {
    Await.result(vipps.sandbox().whenIdle());
    return vipps.sandbox().requests().stream()
        .filter(r -> r.path().endsWith("/" + reference + "/refund"))
        .count();
  }

  /** Unresolved (PENDING or UNKNOWN) refunds in the database. */
  public long unresolved() {
    return broker
        .database()
        .queryLong("SELECT count(*) FROM refunds WHERE status IN ('PENDING', 'UNKNOWN')");
  }

  /**
   * Runs reconciler passes, moving the clock past every schedule between them, until no refund is
   * unresolved.
   */
  public void reconcileUntilResolved(int maxPasses) {
    RefundReconciler reconciler = broker.app().reconciler();
    for (int pass = 0; pass < maxPasses && unresolved() > 0; pass++) {
      Await.result(vipps.sandbox().whenIdle());
      advance(Duration.ofHours(2));
      Await.result(reconciler.runOnce(), Duration.ofMinutes(2));
    }
  }

  private static void expect(HttpResult result, int status, String what) {
    if (result.status() != status) {
      throw new AssertionError(what + ": " + result);
    }
  }

  @Override
  public void close() {
    try {
      broker.close();
    } finally {
      vipps.close();
    }
  }
}

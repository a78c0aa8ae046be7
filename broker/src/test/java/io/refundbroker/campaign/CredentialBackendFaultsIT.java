package io.refundbroker.campaign;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.refundbroker.testing.vault.VaultDouble;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue #16, faults: the credential backend (the Vault double) hanging, refusing (connection
 * refused, then 500 and 503 answers), sealed, and with the broker's token revoked, each under
 * concurrent refunds from several stores. One broker lives through all of them, never restarted.
 *
 * <p>Refunds of orders taken at four "read" stores need their keys from Vault: before each fault
 * the clock moves past the credential cache's TTL, so every one of them reads Vault during the
 * fault. Refunds of orders taken at the "warm" store use keys read just before the fault (cached),
 * and GETs of a refund need no Vault at all: both must keep working during the fault, which proves
 * the hung reads do not take the broker's worker threads or event loops with them. The broker runs
 * with 2 Vault worker threads and {@code VAULT_TIMEOUT=2s} ({@link CredentialBackendKind}).
 *
 * <p>During the fault each refund needing a read must get 503 {@code CREDENTIALS_UNAVAILABLE}
 * (problem+json; never 500, never unanswered) and write nothing (no refund row, no Vipps call). A
 * revoked token is different: the broker logs in again by AppRole, so those refunds succeed. After
 * the fault the time to the first refund that needs a Vault read and succeeds is measured (printed,
 * never asserted), every refused request is sent again with its key, the reconciler settles, and
 * the sandbox's ledger is checked against the refunds table and the audit trail verified.
 *
 * <p>Size: {@code -Dfaults.vault.refunds} refunds needing a Vault read per fault (24 by default),
 * seed {@code -Dfaults.seed}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CredentialBackendFaultsIT {
  private static final long SEED = Long.getLong("faults.seed", 20261130L);
  private static final int REFUNDS = Integer.getInteger("faults.vault.refunds", 24);
  private static final long CAPTURED = 30_000;

  /**
   * Stores whose keys are read from Vault, one per refund: far more than the broker's 2 Vault
   * worker threads, so reads queue for them.
   */
  private static final int READ_STORES = REFUNDS;

  /** The broker's {@code VAULT_TIMEOUT}: the driver's connect and read timeouts. */
  private static final Duration VAULT_TIMEOUT = Duration.ofSeconds(2);

  /**
   * Every answer during a fault must come within this: a call waits for a worker at most {@code
   * VAULT_TIMEOUT} and then takes at most {@code VAULT_TIMEOUT}; the rest is slack for a loaded
   * machine. It is a bound on hanging, not a speed: without it, a request waits for every hung read
   * queued ahead of it, so its wait grows with the number of stores (30 s with 24 stores, 2 threads
   * and a 2 s timeout, before the fix).
   */
  private static final Duration ANSWER_BOUND = VAULT_TIMEOUT.multipliedBy(5);

  private static final Duration CACHE_TTL = Duration.ofSeconds(60);

  /** Long enough that only a broker that hangs misses it (the Vault timeout is 2 s). */
  private static final Duration ANSWER_WITHIN = Duration.ofSeconds(90);

  private VaultDouble vault;
  private RefundWorld world;
  private final List<Shop> readStores = new ArrayList<>();
  private Shop warm;
  private final Random random = new Random(SEED);

  @BeforeAll
  void start() {
    vault = VaultDouble.start();
    world =
        RefundWorld.start(
            b ->
                CredentialBackendKind.VAULT
                    .configure(b, vault)
                    .env("VAULT_TIMEOUT", VAULT_TIMEOUT.toSeconds() + "s")
                    .env("VAULT_WORKER_THREADS", "2")
                    .env("CREDENTIALS_CACHE_TTL", CACHE_TTL.toSeconds() + "s")
                    .env("DATABASE_POOL_SIZE", "24"));
    for (int i = 1; i <= READ_STORES; i++) {
      readStores.add(world.shop("cbf-read-" + i, "cbf", Integer.toString(820_100 + i)));
    }
    warm = world.shop("cbf-warm", "cbf", "820009");
  }

  @AfterAll
  void stop() {
    try {
      if (world != null) {
        world.vipps.assertNoViolations();
        world.close();
      }
    } finally {
      if (vault != null) {
        assertThat(vault.specViolations()).isEmpty();
        vault.close();
      }
    }
  }

  @Test
  @Order(1)
  void hangingVault() {
    Outcome o = scenario("hang", () -> vault.hang(true), () -> vault.hang(false), Expect.REFUSED);
    assertThat(vault.heldRequests()).as("the double held requests unanswered").isPositive();
    o.print("held " + vault.heldRequests() + " Vault requests unanswered");
  }

  @Test
  @Order(2)
  void refusingVault() {
    scenario("refused", vault::refuseConnections, vault::listenAgain, Expect.REFUSED)
        .print("connection refused");
    scenario(
            "500",
            () -> vault.failEvery(500, "internal error"),
            () -> vault.failEvery(0, null),
            Expect.REFUSED)
        .print("every request answered 500 internal error");
    scenario(
            "503",
            () -> vault.failEvery(503, "no healthy upstream"),
            () -> vault.failEvery(0, null),
            Expect.REFUSED)
        .print("every request answered 503 (not a seal)");
  }

  @Test
  @Order(3)
  void sealedVault() {
    Outcome o = scenario("sealed", vault::seal, vault::unseal, Expect.REFUSED);
    o.print("sealed");
  }

  @Test
  @Order(4)
  void tokenRevokedMidLoad() {
    long logins = vault.logins();
    int[] revoked = new int[1];
    Outcome o =
        scenario(
            "revoked", () -> revoked[0] = vault.revokeIssuedTokens(), () -> {}, Expect.ACCEPTED);
    assertThat(revoked[0]).as("the broker's token was revoked").isPositive();
    assertThat(vault.logins()).as("the broker logged in again by AppRole").isGreaterThan(logins);
    o.print(
        revoked[0] + " token(s) revoked, " + (vault.logins() - logins) + " new AppRole login(s)");
  }

  @Test
  @Order(5)
  void tokenRevokedMidLoadAndNoLoginPossible() {
    int[] revoked = new int[1];
    HttpResult[] ready = new HttpResult[1];
    Outcome o =
        scenario(
            "revoked-no-login",
            () -> {
              vault.revokeSecretId(true);
              revoked[0] = vault.revokeIssuedTokens();
            },
            () -> {
              ready[0] = world.broker.get("/health/ready", null);
              vault.revokeSecretId(false);
            },
            Expect.REFUSED_FROM_MID_LOAD);
    assertThat(revoked[0]).as("the broker's token was revoked").isPositive();
    assertThat(ready[0].status()).as(ready[0].toString()).isEqualTo(503);
    assertThat(ready[0].text()).as("readiness names it").contains("cannot authenticate");
    System.out.println("vault faults: readiness while no login was possible: " + ready[0]);
    o.print(revoked[0] + " token(s) revoked and the SecretID with them");
  }

  /**
   * One fault under load: orders registered, the cache expired, the warm store's keys read, the
   * fault begun before the load ({@link Expect#REFUSED}) or with half of it in flight, the rest
   * sent, the fault ended, recovery measured, refused requests sent again, settled and checked.
   *
   * @param expect what the fault must do to refunds needing a Vault read
   */
  private Outcome scenario(String name, Runnable begin, Runnable end, Expect expect) {
    String prefix = "cbf-" + name + "-";
    List<String> readOrders = new ArrayList<>();
    for (int i = 0; i < REFUNDS + 1; i++) {
      String order = prefix + "order-" + i;
      world.sale(readStores.get(i % readStores.size()), order, CAPTURED);
      readOrders.add(order);
    }
    int warmCount = Math.max(2, REFUNDS / 4);
    List<String> warmOrders = new ArrayList<>();
    for (int i = 0; i < warmCount; i++) {
      String order = prefix + "warm-" + i;
      world.sale(warm, order, CAPTURED);
      warmOrders.add(order);
    }
    // every cached key expires; the warm store's are read again, before the fault
    world.advance(CACHE_TTL.plusSeconds(1));
    HttpResult before = world.refund(warm, prefix + "before", refundBody(warmOrders.get(0), 1_000));
    assertThat(before.status()).as(before.toString()).isIn(201, 202);
    String beforeId = before.json().getString("refundId");
    Set<String> acknowledged = new HashSet<>();
    acknowledged.add(beforeId);

    Map<String, Sent> sent = new LinkedHashMap<>();
    boolean beganMidLoad = expect != Expect.REFUSED;
    if (!beganMidLoad) {
      begin.run();
    }
    long faultStarted = System.nanoTime();
    for (int i = 0; i < REFUNDS; i++) {
      if (beganMidLoad && i == REFUNDS / 2) {
        begin.run();
      }
      Shop requester = readStores.get(random.nextInt(readStores.size()));
      long amount = 1_000 + random.nextInt(20) * 1_000L;
      String key = prefix + "read-" + i;
      JsonBody body = new JsonBody(readOrders.get(i), amount);
      sent.put(key, new Sent(Kind.READ, requester, body, send(requester, key, body)));
      if (i % 4 == 0) {
        int w = (i / 4) % warmCount;
        String warmKey = prefix + "warm-" + i;
        JsonBody warmBody = new JsonBody(warmOrders.get(w), 500 + random.nextInt(5) * 100L);
        Shop warmRequester = readStores.get(random.nextInt(readStores.size()));
        sent.put(
            warmKey,
            new Sent(Kind.WARM, warmRequester, warmBody, send(warmRequester, warmKey, warmBody)));
        sent.put(
            prefix + "ready-" + i,
            new Sent(
                Kind.READY,
                warm,
                null,
                timed(
                    world.broker.sendAsync(
                        HttpMethod.GET,
                        "/health/ready",
                        null,
                        null,
                        MultiMap.caseInsensitiveMultiMap()))));
        sent.put(
            prefix + "get-" + i,
            new Sent(
                Kind.GET,
                warm,
                null,
                timed(
                    world.broker.sendAsync(
                        HttpMethod.GET,
                        "/v1/refunds/" + beforeId,
                        warm.token(),
                        null,
                        MultiMap.caseInsensitiveMultiMap()))));
      }
    }
    Await.result(Future.join(sent.values().stream().map(s -> s.reply).toList()), ANSWER_WITHIN);
    double faultSeconds = (System.nanoTime() - faultStarted) / 1e9;

    Map<String, Integer> answers = new TreeMap<>();
    Map<Kind, Double> slowest = new TreeMap<>();
    List<String> toResend = new ArrayList<>();
    double slowestSeconds = 0;
    String slowestWhat = "";
    for (var entry : sent.entrySet()) {
      Sent s = entry.getValue();
      Timed t = s.reply.result();
      HttpResult reply = t.result();
      String what = "[seed " + SEED + "] " + name + " " + entry.getKey() + ": " + reply;
      slowest.merge(s.kind, t.seconds(), Math::max);
      answers.merge(
          s.kind
              + " "
              + reply.status()
              + (reply.status() >= 400 && s.kind != Kind.READY ? " " + reply.code() : ""),
          1,
          Integer::sum);
      if (t.seconds() > slowestSeconds) {
        slowestSeconds = t.seconds();
        slowestWhat = what;
      }
      switch (s.kind) {
        case GET -> assertThat(reply.status()).as(what).isEqualTo(200);
        case READY -> {
          if (expect == Expect.REFUSED) {
            assertThat(reply.status()).as(what).isEqualTo(503);
            assertThat(reply.text()).as(what).contains("credentials");
          } else {
            assertThat(reply.status()).as(what).isIn(200, 503);
          }
        }
        case WARM -> {
          assertThat(reply.status()).as(what).isIn(201, 202);
          acknowledged.add(reply.json().getString("refundId"));
        }
        case READ -> {
          if (reply.status() == 201 || reply.status() == 202) {
            acknowledged.add(reply.json().getString("refundId"));
          } else {
            assertThat(reply.status()).as(what).isEqualTo(503);
            assertThat(reply.header("Content-Type"))
                .as(what)
                .startsWith("application/problem+json");
            assertThat(reply.code()).as(what).isEqualTo("CREDENTIALS_UNAVAILABLE");
            toResend.add(entry.getKey());
          }
        }
      }
    }
    assertThat(slowestSeconds)
        .as("slowest answer during the fault, bound %s: %s", ANSWER_BOUND, slowestWhat)
        .isLessThanOrEqualTo(ANSWER_BOUND.toSeconds());
    if (expect == Expect.ACCEPTED) {
      assertThat(toResend).as("[seed %d] %s: refused", SEED, name).isEmpty();
    } else if (expect == Expect.REFUSED_FROM_MID_LOAD) {
      assertThat(toResend).as("[seed %d] %s: refused", SEED, name).isNotEmpty();
    } else {
      long readsSentAfterTheFault = sent.values().stream().filter(s -> s.kind == Kind.READ).count();
      assertThat(toResend)
          .as(
              "[seed %d] %s: every refund needing a Vault read refused during the fault",
              SEED, name)
          .hasSize((int) readsSentAfterTheFault);
    }
    checkRefusedWroteNothing(name, toResend, sent);

    end.run();
    long ended = System.nanoTime();
    // the first refund needing a Vault read after the fault (the cache expired first): a 503
    // writes nothing, so it is sent again with the same key until it is accepted
    world.advance(CACHE_TTL.plusSeconds(1));
    String probeKey = prefix + "recovery";
    JsonBody probe = new JsonBody(readOrders.get(REFUNDS), 2_000);
    int[] attempts = new int[1];
    HttpResult first =
        Poll.value(
            name + ": a refund needing a Vault read accepted after the fault",
            Duration.ofSeconds(60),
            () -> {
              attempts[0]++;
              HttpResult r = Await.result(send(readStores.get(0), probeKey, probe)).result();
              if (r.status() == 201 || r.status() == 202) {
                return r;
              }
              assertThat(r.status()).as("[seed %d] %s: %s", SEED, name, r).isEqualTo(503);
              return null;
            });
    double recoverySeconds = (System.nanoTime() - ended) / 1e9;
    acknowledged.add(first.json().getString("refundId"));

    for (String key : toResend) {
      Sent s = sent.get(key);
      HttpResult again = Await.result(send(s.requester, key, s.body)).result();
      assertThat(again.status()).as("%s sent again: %s", key, again).isIn(201, 202);
      acknowledged.add(again.json().getString("refundId"));
    }
    world.reconcileUntilResolved(10);
    assertThat(world.unresolved()).as("[seed %d] %s left PENDING/UNKNOWN", SEED, name).isZero();
    int applied = checkMoney(prefix, acknowledged);
    checkAuditTrail();
    return new Outcome(
        name,
        answers,
        slowest,
        faultSeconds,
        recoverySeconds,
        attempts[0],
        toResend.size(),
        applied);
  }

  private Future<Timed> send(Shop requester, String key, JsonBody body) {
    return timed(world.refundAsync(requester, key, refundBody(body.order(), body.amount())));
  }

  private static Future<Timed> timed(Future<HttpResult> reply) {
    long started = System.nanoTime();
    return reply.map(r -> new Timed(r, (System.nanoTime() - started) / 1e9));
  }

  /** A refused request left no refund row and made no Vipps call on its order. */
  private void checkRefusedWroteNothing(String name, List<String> refused, Map<String, Sent> sent) {
    for (String key : refused) {
      String order = sent.get(key).body.order();
      long rows =
          world
              .broker
              .database()
              .queryLong("SELECT count(*) FROM refunds WHERE order_id = '" + order + "'");
      assertThat(rows).as("[seed %d] %s: refused %s wrote a refund", SEED, name, key).isZero();
      assertThat(world.refundCalls(order))
          .as("[seed %d] %s: refused %s called Vipps", SEED, name, key)
          .isZero();
    }
  }

  /**
   * Sandbox ledger against the refunds table for one scenario's orders: each refund applied at most
   * once, SUCCEEDED ones applied with their amount, FAILED ones never, every acknowledged refund
   * present, nothing refunded above the capture.
   */
  private int checkMoney(String prefix, Set<String> acknowledged) {
    List<LedgerEntry> ledger =
        world.ledger().stream().filter(e -> e.reference().startsWith(prefix)).toList();
    Map<String, List<LedgerEntry>> appliedByKey = new HashMap<>();
    Map<String, Long> appliedByOrder = new HashMap<>();
    for (LedgerEntry entry : ledger) {
      appliedByKey.computeIfAbsent(entry.idempotencyKey(), k -> new ArrayList<>()).add(entry);
      appliedByOrder.merge(entry.reference(), entry.amount().value(), Long::sum);
    }
    appliedByKey.forEach(
        (key, entries) ->
            assertThat(entries).as("[seed %d] applied twice: %s", SEED, key).hasSize(1));
    Map<String, Map<String, Object>> rows = new HashMap<>();
    for (var row :
        world
            .broker
            .database()
            .query(
                "SELECT refund_id::text AS id, upstream_key, status, order_id, amount_value"
                    + " FROM refunds WHERE order_id LIKE '"
                    + prefix
                    + "%'")) {
      rows.put((String) row.get("upstream_key"), row);
    }
    Set<String> ids = new HashSet<>();
    rows.values().forEach(r -> ids.add((String) r.get("id")));
    assertThat(ids)
        .as("[seed %d] every acknowledged refund present, and rows only for them", SEED)
        .isEqualTo(acknowledged);
    Map<String, Long> succeededByOrder = new HashMap<>();
    for (var row : rows.values()) {
      String key = (String) row.get("upstream_key");
      long amount = ((Number) row.get("amount_value")).longValue();
      if (row.get("status").equals("SUCCEEDED")) {
        assertThat(appliedByKey)
            .as("[seed %d] SUCCEEDED, never applied: %s", SEED, key)
            .containsKey(key);
        assertThat(appliedByKey.get(key).get(0).amount().value()).isEqualTo(amount);
        succeededByOrder.merge((String) row.get("order_id"), amount, Long::sum);
      } else {
        assertThat(row.get("status")).as("[seed %d] %s", SEED, row).isEqualTo("FAILED");
        assertThat(appliedByKey)
            .as("[seed %d] FAILED but applied: %s", SEED, key)
            .doesNotContainKey(key);
      }
    }
    assertThat(rows.keySet())
        .as("[seed %d] applied with a key no refund has", SEED)
        .containsAll(appliedByKey.keySet());
    succeededByOrder.forEach(
        (order, total) -> assertThat(total).as(order).isLessThanOrEqualTo(CAPTURED));
    appliedByOrder.forEach(
        (order, total) -> assertThat(total).as(order).isLessThanOrEqualTo(CAPTURED));
    return ledger.size();
  }

  private void checkAuditTrail() {
    AuditLinks.await(world.broker.database());
    String auditor = world.broker.issueToken("AUDITOR", null);
    HttpResult verified = world.broker.get("/v1/audit/verify", auditor);
    assertThat(verified.status()).as(verified.toString()).isEqualTo(200);
    assertThat(verified.json().getBoolean("valid")).as(verified.toString()).isTrue();
  }

  /** What a fault must do to refunds needing a Vault read. */
  private enum Expect {
    /** Begun before the load; every one refused 503. */
    REFUSED,
    /** Begun mid-load; every one accepted (the broker logs in again). */
    ACCEPTED,
    /** Begun mid-load; accepted before it, refused after it: at least one refused. */
    REFUSED_FROM_MID_LOAD
  }

  private enum Kind {
    READ,
    WARM,
    GET,
    READY
  }

  private record JsonBody(String order, long amount) {}

  private record Timed(HttpResult result, double seconds) {}

  private record Sent(Kind kind, Shop requester, JsonBody body, Future<Timed> reply) {}

  private record Outcome(
      String name,
      Map<String, Integer> answers,
      Map<Kind, Double> slowest,
      double faultSeconds,
      double recoverySeconds,
      int attempts,
      int resent,
      int applied) {

    void print(String detail) {
      System.out.printf(
          "vault faults: seed %d, %s (%s): answers %s; slowest answer %s s; load %.1f s; first"
              + " refund needing a Vault read succeeded %.1f s after the fault ended (%d"
              + " attempt(s)); %d refused sent again, each once; 0 double, 0 lost, %d applied at"
              + " Vipps; trail valid%n",
          SEED,
          name,
          detail,
          answers,
          slowestText(),
          faultSeconds,
          recoverySeconds,
          attempts,
          resent,
          applied);
    }

    private String slowestText() {
      Map<String, String> text = new TreeMap<>();
      slowest.forEach((k, v) -> text.put(k.name(), String.format("%.1f", v)));
      return text.toString();
    }
  }
}

package io.refundbroker.refund;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * 64 concurrent refunds of one order from several stores, asking for three times what was captured:
 * the total refunded never exceeds the capture, and Vipps is only called for refunds that fit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefundConcurrencyIT {
  private static final long CAPTURED = 100_000;
  private static final int REQUESTS = 64;

  private RefundWorld world;
  private Shop origin;
  private List<Shop> tills;

  @BeforeAll
  void start() {
    // A generous read timeout: up to ~30 refunds reach the sandbox at once, and on a loaded
    // machine an answer can take over the harness's 1 s; the retry that follows (same key, Vipps
    // applies it once) would count as an upstream call beyond the successes although nothing was
    // refunded twice and no refusal called Vipps, which is what this test is about.
    world =
        RefundWorld.start(
            b -> b.env("VIPPS_REFUND_CALLS_PER_MINUTE", "1000").env("VIPPS_READ_TIMEOUT", "10s"));
    world.vipps.sandbox().refundCallsPerMinute(0);
    origin = world.shop("race-origin", "acme", "400001");
    tills =
        List.of(
            world.shop("race-b", "acme", "400002"),
            world.shop("race-c", "acme", "400003"),
            world.shop("race-d", "acme", "400004"),
            origin);
  }

  @AfterAll
  void stop() {
    world.vipps.assertNoViolations();
    world.close();
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {7, 1234, 990_001})
  void concurrentRefundsNeverExceedTheCapture(long seed) {
    Random random = new Random(seed);
    String orderId = "race-order-" + seed;
    world.sale(origin, orderId, CAPTURED);
    long[] amounts = split(3 * CAPTURED, REQUESTS, random);
    long callsBefore = world.refundCalls();

    List<Future<HttpResult>> sent = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      Shop till = tills.get(random.nextInt(tills.size()));
      sent.add(world.refundAsync(till, orderId + "-" + i, refundBody(orderId, amounts[i])));
    }
    Await.result(Future.join(sent), Duration.ofSeconds(120));

    long succeeded = 0;
    int successes = 0;
    for (int i = 0; i < REQUESTS; i++) {
      HttpResult reply = sent.get(i).result();
      if (reply.status() == 201) {
        successes++;
        succeeded += amounts[i];
      } else {
        assertThat(reply.status()).as("seed %d: %s", seed, reply).isEqualTo(422);
        assertThat(reply.code()).as("seed %d", seed).isEqualTo("REFUND_EXCEEDS_REFUNDABLE");
      }
    }
    List<LedgerEntry> applied =
        world.ledger().stream().filter(e -> e.reference().equals(orderId)).toList();
    long refunded = applied.stream().mapToLong(e -> e.amount().value()).sum();

    assertThat(refunded).as("seed %d: refunded at Vipps", seed).isLessThanOrEqualTo(CAPTURED);
    assertThat(refunded).as("seed %d: matches the 201 replies", seed).isEqualTo(succeeded);
    assertThat(applied).as("seed %d", seed).hasSize(successes);
    assertThat(world.refundCalls() - callsBefore)
        .as("seed %d: no upstream call beyond the successes", seed)
        .isEqualTo(successes);
    assertThat(successes).as("seed %d: some refunds fit", seed).isPositive();
    assertThat(
            world
                .broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM refunds WHERE order_id = ? AND status <> 'SUCCEEDED'",
                    orderId))
        .as("seed %d: refusals wrote nothing", seed)
        .isZero();
  }

  /** {@code parts} positive amounts summing to {@code total}. */
  private static long[] split(long total, int parts, Random random) {
    long[] cuts = new long[parts + 1];
    cuts[parts] = total;
    for (int i = 1; i < parts; i++) {
      cuts[i] = 1 + (long) (random.nextDouble() * (total - 2));
    }
    java.util.Arrays.sort(cuts, 1, parts);
    long[] amounts = new long[parts];
    for (int i = 0; i < parts; i++) {
      amounts[i] = Math.max(1, cuts[i + 1] - cuts[i]);
    }
    long excess = java.util.Arrays.stream(amounts).sum() - total;
    for (int i = 0; excess > 0; i = (i + 1) % parts) {
      if (amounts[i] > 1) {
        amounts[i]--;
        excess--;
      }
    }
    return amounts;
  }
}

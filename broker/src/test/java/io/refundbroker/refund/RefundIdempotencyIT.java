package io.refundbroker.refund;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Idempotency per calling client and key: never two refunds for one intent. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefundIdempotencyIT {
  private RefundWorld world;
  private Shop origin;
  private Shop till;

  @BeforeAll
  void start() {
    world = RefundWorld.start(b -> b.env("VIPPS_REFUND_CALLS_PER_MINUTE", "1000"));
    world.vipps.sandbox().refundCallsPerMinute(0);
    origin = world.shop("origin", "acme", "300001");
    till = world.shop("till", "acme", "300002");
  }

  @AfterAll
  void stop() {
    world.vipps.assertNoViolations();
    world.close();
  }

  @Test
  void fiftyConcurrentIdenticalRequestsRefundExactlyOnce() {
    world.sale(origin, "idem-order-0001", 100000);
    List<Future<HttpResult>> sent = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      sent.add(world.refundAsync(till, "same-key-1", refundBody("idem-order-0001", 2500)));
    }
    Await.result(Future.join(sent), Duration.ofSeconds(60));
    List<HttpResult> replies = sent.stream().map(Future::result).toList();

    assertThat(world.ledger().stream().filter(e -> e.reference().equals("idem-order-0001")))
        .as("refunds applied at Vipps")
        .hasSize(1);
    assertThat(world.refundCalls("idem-order-0001")).isEqualTo(1);
    Set<String> refundIds =
        replies.stream()
            .filter(r -> r.status() == 201)
            .map(r -> r.json().getString("refundId"))
            .collect(Collectors.toSet());
    assertThat(refundIds).hasSize(1);
    for (HttpResult reply : replies) {
      if (reply.status() == 409) {
        assertProblem(reply, 409, "REQUEST_IN_FLIGHT");
      } else {
        assertThat(reply.status()).as(reply.toString()).isEqualTo(201);
      }
    }
    assertThat(
            world
                .broker
                .database()
                .queryLong("SELECT count(*) FROM refunds WHERE order_id = 'idem-order-0001'"))
        .isEqualTo(1);

    HttpResult replay = world.refund(till, "same-key-1", refundBody("idem-order-0001", 2500));
    assertThat(replay.status()).isEqualTo(201);
    assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(replay.json().getString("refundId")).isEqualTo(refundIds.iterator().next());
  }

  @Test
  void theSameKeyWithAnotherBodyIsRefusedAndWritesNothing() {
    world.sale(origin, "idem-order-0002", 10000);
    assertThat(world.refund(till, "key-2", refundBody("idem-order-0002", 1000)).status())
        .isEqualTo(201);
    long calls = world.refundCalls();
    assertProblem(
        world.refund(till, "key-2", refundBody("idem-order-0002", 1001)),
        422,
        "IDEMPOTENCY_KEY_REUSED");
    assertThat(world.refundCalls()).isEqualTo(calls);
    assertThat(
            world
                .broker
                .database()
                .queryLong("SELECT count(*) FROM refunds WHERE order_id = 'idem-order-0002'"))
        .isEqualTo(1);
  }

  @Test
  void keysArePerClient() {
    world.sale(origin, "idem-order-0003", 10000);
    Shop otherTill =
        new Shop(
            till.storeId(),
            till.chainId(),
            till.msn(),
            till.api(),
            till.keys(),
            world.broker.issueToken("STORE", "till"));
    assertThat(world.refund(till, "shared-key", refundBody("idem-order-0003", 1000)).status())
        .isEqualTo(201);
    assertThat(world.refund(otherTill, "shared-key", refundBody("idem-order-0003", 1000)).status())
        .as("another POS client may use the same key for its own refund")
        .isEqualTo(201);
    assertThat(world.ledger().stream().filter(e -> e.reference().equals("idem-order-0003")))
        .hasSize(2);
  }
}

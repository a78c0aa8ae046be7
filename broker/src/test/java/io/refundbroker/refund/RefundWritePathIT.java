package io.refundbroker.refund;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The write path of V12 (one call for the write-ahead, one for the outcome): the checks that moved
 * into {@code refund_write_ahead} still refuse with the broker's problems and write nothing, and an
 * outcome whose refund changed after the write-ahead is recorded from the stored row, not from the
 * request's copy.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefundWritePathIT {
  private static final int CALLS_PER_MINUTE = 2;

  private RefundWorld world;
  private Shop origin;
  private Shop till;

  @BeforeAll
  void start() {
    world =
        RefundWorld.start(
            b -> b.env("VIPPS_REFUND_CALLS_PER_MINUTE", Integer.toString(CALLS_PER_MINUTE)));
    world.vipps.sandbox().refundCallsPerMinute(0);
    origin = world.shop("wp-origin", "acme", "500001");
    till = world.shop("wp-till", "acme", "500002");
  }

  @AfterAll
  void stop() {
    world.vipps.assertNoViolations();
    world.close();
  }

  @Test
  void theWriteAheadRefusesAThirdCallOnOnePaymentWithinAMinuteAndWritesNothing() {
    world.sale(origin, "wp-order-rate", 100_000);
    for (int i = 0; i < CALLS_PER_MINUTE; i++) {
      assertThat(world.refund(till, "wp-rate-" + i, refundBody("wp-order-rate", 1000)).status())
          .isEqualTo(201);
    }
    long events = world.broker.database().queryLong("SELECT count(*) FROM audit_events");

    HttpResult third = world.refund(till, "wp-rate-3", refundBody("wp-order-rate", 1000));

    assertProblem(third, 429, "TOO_MANY_REFUNDS");
    assertThat(third.json().getLong("retryAfterSeconds")).isBetween(1L, 60L);
    assertThat(third.json().getString("detail"))
        .contains(CALLS_PER_MINUTE + " refund calls per payment per minute");
    assertThat(
            world
                .broker
                .database()
                .queryLong("SELECT count(*) FROM refunds WHERE order_id = ?", "wp-order-rate"))
        .as("the refused refund wrote no row")
        .isEqualTo(CALLS_PER_MINUTE);
    assertThat(
            world
                .broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM idempotency_records WHERE idempotency_key = ?",
                    "wp-rate-3"))
        .as("nor claimed its key")
        .isZero();
    assertThat(world.broker.database().queryLong("SELECT count(*) FROM audit_events"))
        .as("nor appended an event")
        .isEqualTo(events);
    assertThat(world.refundCalls("wp-order-rate")).isEqualTo(CALLS_PER_MINUTE);
  }

  @Test
  void anOutcomeIsRecordedFromTheStoredRefundWhenItChangedAfterTheWriteAhead() {
    world.sale(origin, "wp-order-stale", 100_000);
    AtomicInteger touched = new AtomicInteger();
    // While Vipps handles the call, something else (as the reconciler's attempt bookkeeping does)
    // changes the stored refund: the request's copy is stale when the outcome is written.
    world
        .vipps
        .sandbox()
        .onRequest(
            request -> {
              if (request.path().endsWith("/wp-order-stale/refund")) {
                touched.addAndGet(countAnotherAttempt("wp-order-stale"));
              }
            });

    HttpResult reply = world.refund(till, "wp-stale-1", refundBody("wp-order-stale", 2500));

    assertThat(reply.status()).as("%s", reply).isEqualTo(201);
    assertThat(touched.get()).as("the stored refund was changed mid-call").isEqualTo(1);
    String refundId = reply.json().getString("refundId");
    List<Map<String, Object>> stored =
        world
            .broker
            .database()
            .query("SELECT status, attempts FROM refunds WHERE refund_id = ?::uuid", refundId);
    assertThat(stored).hasSize(1);
    assertThat(stored.get(0)).containsEntry("status", "SUCCEEDED").containsEntry("attempts", 2);
    List<Map<String, Object>> succeeded =
        world
            .broker
            .database()
            .query(
                "SELECT details::text AS details FROM audit_events"
                    + " WHERE subject_id = ? AND action = 'refund.succeeded'",
                refundId);
    assertThat(succeeded).as("exactly one event for the change of state").hasSize(1);
    assertThat(new JsonObject((String) succeeded.get(0).get("details")).getInteger("attempts"))
        .as("the event describes the stored refund, not the request's copy")
        .isEqualTo(2);
    assertThat(
            world
                .broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM idempotency_records"
                        + " WHERE idempotency_key = ? AND state = 'COMPLETED'",
                    "wp-stale-1"))
        .as("the key is completed")
        .isEqualTo(1);
    HttpResult replay = world.refund(till, "wp-stale-1", refundBody("wp-order-stale", 2500));
    assertThat(replay.status()).isEqualTo(201);
    assertThat(replay.json().getString("refundId")).isEqualTo(refundId);
    assertThat(world.refundCalls("wp-order-stale")).isEqualTo(1);
  }

  /** Counts one more attempt on the order's pending refund; returns the rows changed. */
  private int countAnotherAttempt(String orderId) {
    try (Connection c = world.broker.database().ownerConnection();
        PreparedStatement s =
            c.prepareStatement(
                "UPDATE refunds SET attempts = attempts + 1"
                    + " WHERE order_id = ? AND status = 'PENDING'")) {
      s.setString(1, orderId);
      return s.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}

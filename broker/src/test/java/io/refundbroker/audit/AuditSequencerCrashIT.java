package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.auth.Tokens;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.ChildBroker;
import io.refundbroker.testing.ChildEnv;
import io.refundbroker.testing.ChildSetup;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sequencer's process dies (SIGKILL) in the middle of a batch — links inserted, not committed —
 * while more events commit behind it: nothing of the batch survives, and the next sequencer links
 * every committed event exactly once. The middle of the batch is reached deterministically with the
 * test-only {@code AUDIT_SEQUENCER_TEST_PAUSE} hook, which holds the batch that links a {@code
 * store.created} event open before its commit.
 */
class AuditSequencerCrashIT {
  private static final Duration READY = Duration.ofSeconds(90);
  private static final Duration WITHIN = Duration.ofSeconds(30);
  private static final String PAUSED = "audit sequencer paused inside its batch";

  @TempDir Path dataDir;

  @Test
  void killedMidBatchTheSequencerLosesAndDuplicatesNothing() {
    TestDatabase db = TestPostgres.newDatabase();
    String adminToken = Tokens.newToken();
    Map<String, String> env = env(db, adminToken);
    long linkedBefore;
    try (ChildBroker first = ChildBroker.start(withPause(env), READY)) {
      ChildSetup setup = new ChildSetup(first.baseUrl(), adminToken);
      AuditLinks.await(db);
      linkedBefore = links(db);
      assertThat(linkedBefore).as("events before the paused batch were linked").isPositive();

      createStore(setup, adminToken, "crash-1", "9101");
      Poll.until("the sequencer paused mid-batch", WITHIN, () -> first.countLines(PAUSED) > 0);
      assertThat(
              db.queryLong(
                  "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
                      + " AND application_name = 'refund-broker-audit-sequencer'"))
          .as("the batch's transaction is open")
          .isEqualTo(1);
      // committed while the sequencer is stuck: these wait for the next one
      createStore(setup, adminToken, "crash-2", "9102");
      createStore(setup, adminToken, "crash-3", "9103");
      assertThat(links(db))
          .as("the paused batch's links are not committed")
          .isEqualTo(linkedBefore);
      assertThat(AuditLinks.unlinked(db)).isGreaterThanOrEqualTo(3);

      first.kill();
    }
    Poll.until(
        "PostgreSQL released the dead sequencer's lock",
        WITHIN,
        () ->
            db.queryLong(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                        + " AND objid = ?",
                    AuditLinkRepository.SEQUENCER_LOCK)
                == 0);
    assertThat(links(db)).as("nothing of the killed batch survived").isEqualTo(linkedBefore);

    try (ChildBroker second = ChildBroker.start(env, READY)) {
      AuditLinks.await(db);
      long entries = db.queryLong("SELECT count(*) FROM audit_entries");
      assertThat(links(db)).as("every event linked").isEqualTo(entries);
      assertThat(db.queryLong("SELECT count(DISTINCT event_id) FROM audit_links"))
          .as("none twice")
          .isEqualTo(entries);
      assertThat(db.queryLong("SELECT max(seq) FROM audit_links"))
          .as("gap-free")
          .isEqualTo(entries);
      assertThat(
              db.queryLong(
                  "SELECT count(*) FROM audit_events WHERE action = 'store.created'"
                      + " AND subject_id LIKE 'crash-%' AND seq IS NOT NULL"))
          .isEqualTo(3);

      ChildSetup setup = new ChildSetup(second.baseUrl(), adminToken);
      String auditor = setup.token("AUDITOR", null);
      HttpResponse<String> verify = setup.send("GET", "/v1/audit/verify", auditor, null);
      ChildSetup.expect(verify, 200);
      JsonObject verdict = new JsonObject(verify.body());
      assertThat(verdict.getBoolean("valid")).as(verdict.encode()).isTrue();
      assertThat(second.terminate(Duration.ofSeconds(30))).isZero();
    }
  }

  private static void createStore(ChildSetup setup, String adminToken, String storeId, String msn) {
    ChildSetup.expect(
        setup.send(
            "POST",
            "/v1/admin/stores",
            adminToken,
            new JsonObject()
                .put("storeId", storeId)
                .put("name", "Store " + storeId)
                .put("msn", msn)
                .put("chainId", "acme")),
        201);
  }

  private static long links(TestDatabase db) {
    return db.queryLong("SELECT count(*) FROM audit_links");
  }

  private static Map<String, String> withPause(Map<String, String> env) {
    Map<String, String> paused = new HashMap<>(env);
    paused.put("AUDIT_SEQUENCER_TEST_PAUSE", "store.created");
    return paused;
  }

  private Map<String, String> env(TestDatabase db, String adminToken) {
    Map<String, String> env = ChildEnv.base(db, dataDir, adminToken);
    env.put("BROKER_SHUTDOWN_GRACE", "2s");
    return env;
  }
}

package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.caller.Actor;
import io.refundbroker.db.Database;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sequencer links every committed event exactly once, in batches, whatever order transactions
 * commit in and whether or not a sequencer ran when they did; with two instances one links at a
 * time and the other takes over when it stops. (Killed in the middle of a batch: {@code
 * AuditSequencerCrashIT}.)
 */
class AuditSequencerIT {
  private static final long SEED = Long.getLong("audit.seed", System.nanoTime());

  private TestDatabase db;
  private Vertx vertx;
  private Database database;
  private AuditLog log;
  private final AuditMac mac = AuditMac.random();
  private final List<AuditSequencer> sequencers = new ArrayList<>();

  @BeforeEach
  void start() {
    db = TestPostgres.newDatabase();
    vertx = Vertx.vertx();
    database = Database.connect(vertx, db.appUrl(), 8, db.schemaVersion());
    log = new AuditLog(Clock.systemUTC(), mac);
  }

  @AfterEach
  void stop() {
    sequencers.forEach(s -> Await.result(s.close()));
    Await.result(database.close());
    Await.result(vertx.close());
  }

  @Test
  void eventsCommittedWhileNoSequencerRanAreLinkedWhenOneComesBack() {
    List<UUID> committed = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      committed.add(append(null, "while-down-" + i));
    }
    assertThat(AuditLinks.unlinked(db)).isEqualTo(3);
    assertThat(linkedSeqs()).isEmpty();

    AuditSequencer sequencer = sequencer(100);
    assertThat(Await.result(sequencer.round())).isEqualTo(3);
    assertThat(sequencer.leading()).isTrue();
    assertThat(AuditLinks.unlinked(db)).isZero();
    assertThat(linkedIds()).containsExactlyElementsOf(committed);
    assertChainValid(3);

    // a second sequencer (another instance) does not link while the first one leads
    AuditSequencer other = sequencer(100);
    append(null, "after");
    assertThat(Await.result(other.round())).isZero();
    assertThat(other.leading()).isFalse();
    assertThat(Await.result(sequencer.round())).isEqualTo(1);
    Await.result(sequencer.close());
    Poll.until(
        "the other sequencer takes over at its next probe",
        Duration.ofSeconds(10),
        () -> {
          Await.result(other.round());
          return other.leading();
        });
    append(null, "taken over");
    assertThat(Await.result(other.round())).isEqualTo(1);
    assertChainValid(5);
  }

  /**
   * A new leader resumes from the horizon the head link recorded instead of scanning the whole
   * trail (which took 38–48 s with 5,000,000 events) — and still links an event whose transaction
   * was open across the old leader's last batch and committed after it stopped.
   */
  @Test
  void aNewLeaderResumesFromTheHorizonTheLastBatchRecorded() {
    AuditSequencer first = sequencer(100);
    for (int i = 0; i < 3; i++) {
      append(null, "before-" + i);
    }
    assertThat(Await.result(first.round())).isEqualTo(3);
    OpenTransaction slow = begin();
    UUID late = append(slow.connection(), "open across the last batch");
    append(null, "linked by the first leader");
    assertThat(Await.result(first.round())).isEqualTo(1);
    long recorded = db.queryLong("SELECT horizon FROM audit_links ORDER BY seq DESC LIMIT 1");
    long slowTx =
        Await.result(
                slow.connection()
                    .query("SELECT pg_current_xact_id()::text::bigint AS tx")
                    .execute())
            .iterator()
            .next()
            .getLong("tx");
    assertThat(recorded).isPositive().isLessThanOrEqualTo(slowTx);
    Await.result(first.close());
    Await.result(slow.transaction().commit());
    Await.result(slow.connection().close());

    List<Long> searchedFrom = new CopyOnWriteArrayList<>();
    AtomicReference<AuditSequencer> next = new AtomicReference<>();
    next.set(
        sequencer(
            100,
            batch -> {
              searchedFrom.add(next.get().horizon());
              return Future.succeededFuture();
            }));
    Poll.until(
        "the next sequencer takes the lead and links the late event",
        Duration.ofSeconds(10),
        () -> Await.result(next.get().round()) > 0);

    assertThat(searchedFrom)
        .as("the new leader's first batch searched from")
        .first()
        .isEqualTo(recorded);
    assertThat(linkedIds()).endsWith(late).doesNotHaveDuplicates();
    assertThat(AuditLinks.unlinked(db)).isZero();
    assertChainValid(5);
  }

  /**
   * Every poll is planned for the horizon it is given. A prepared statement's generic plan, which
   * PostgreSQL picks after five executions when it estimates it no worse, cannot use the horizon:
   * it scanned the whole trail — the benchmark's sequencer spent 13–25 ms a poll on it, 8–16 s of
   * PostgreSQL time in a 30 s window, whenever a session had picked it.
   */
  @Test
  void everyPollOfTheSequencersSessionIsPlannedForItsHorizon() {
    for (int i = 0; i < 20; i++) {
      append(null, "planned-" + i);
    }
    AuditLinkRepository repository = new AuditLinkRepository();
    PgConnection connection =
        Await.result(
            PgConnection.connect(vertx, AuditSequencer.dedicated(database.connectOptions())));
    try {
      long horizon = Await.result(repository.pending(connection, 0)).xmin();
      for (int i = 0; i < 12; i++) {
        Await.result(repository.pending(connection, horizon));
        Await.result(
            connection
                .begin()
                .compose(
                    tx -> repository.unlinked(connection, horizon, 100).eventually(tx::rollback)));
      }
      List<String> plans = new ArrayList<>();
      for (Row row :
          Await.result(
              connection
                  .query(
                      "SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements"
                          + " WHERE statement LIKE '%pg_snapshot_xmin%'")
                  .execute())) {
        plans.add(
            row.getLong("generic_plans")
                + " generic, "
                + row.getLong("custom_plans")
                + " custom: "
                + row.getString("statement").strip().lines().findFirst().orElse(""));
        assertThat(row.getLong("generic_plans")).as(plans.toString()).isZero();
        assertThat(row.getLong("custom_plans")).as(plans.toString()).isGreaterThanOrEqualTo(12);
      }
      assertThat(plans).as("the sequencer's two polls").hasSize(2);
    } finally {
      Await.result(connection.close());
    }
  }

  /**
   * Seeded: transactions open, append, commit or roll back in random order while batches run in
   * between (some of them full, so the horizon must step back to the last transaction a full batch
   * reached). At the end every committed event is linked exactly once, in one gap-free chain, and
   * no rolled-back one is.
   */
  @Test
  void everyCommittedEventIsLinkedOnceWhateverOrderTransactionsCommitIn() {
    Random random = new Random(SEED);
    AuditSequencer sequencer = sequencer(3);
    List<OpenTransaction> open = new ArrayList<>();
    Set<UUID> committed = new HashSet<>();
    Set<UUID> rolledBack = new HashSet<>();
    int appended = 0;
    for (int step = 0; step < 150; step++) {
      int action = random.nextInt(10);
      if (action < 4 && open.size() < 6) {
        OpenTransaction tx = begin();
        for (int i = random.nextInt(3); i >= 0; i--) {
          tx.events().add(append(tx.connection(), "e" + appended++));
        }
        open.add(tx);
      } else if (action < 7 && !open.isEmpty()) {
        OpenTransaction tx = open.remove(random.nextInt(open.size()));
        Await.result(tx.transaction().commit());
        Await.result(tx.connection().close());
        committed.addAll(tx.events());
      } else if (action < 8 && !open.isEmpty()) {
        OpenTransaction tx = open.remove(random.nextInt(open.size()));
        Await.result(tx.transaction().rollback());
        Await.result(tx.connection().close());
        rolledBack.addAll(tx.events());
      } else {
        Await.result(sequencer.round());
        assertThat(committed).as("seed %d, step %d", SEED, step).containsAll(linkedIds());
      }
    }
    for (OpenTransaction tx : open) {
      Await.result(tx.transaction().commit());
      Await.result(tx.connection().close());
      committed.addAll(tx.events());
    }
    Await.result(sequencer.round());

    List<UUID> linked = linkedIds();
    assertThat(linked).as("seed %d", SEED).doesNotHaveDuplicates();
    assertThat(new HashSet<>(linked)).as("seed %d", SEED).isEqualTo(committed);
    assertThat(linked).as("seed %d", SEED).doesNotContainAnyElementsOf(rolledBack);
    assertThat(AuditLinks.unlinked(db)).isZero();
    assertChainValid(committed.size());
  }

  @Test
  void twoInstancesLinkOneAtATimeAndTheOtherTakesOver(@TempDir Path keys) {
    TestBroker first = sharing(TestBroker.builder(), keys, db).start();
    TestBroker second = null;
    try {
      Poll.until("the first instance leads", Duration.ofSeconds(30), this::oneLeader);
      second =
          sharing(TestBroker.builder(), keys, db)
              .env("BROKER_ADMIN_TOKEN", first.adminToken())
              .start();
      for (int i = 0; i < 4; i++) {
        first.createStore("first-" + i, "acme", "71" + i + "0");
        second.createStore("second-" + i, "acme", "72" + i + "0");
      }
      AuditLinks.await(db);
      assertThat(first.app().auditSequencer().leading()).isTrue();
      assertThat(second.app().auditSequencer().leading()).isFalse();
      assertThat(second.app().auditSequencer().linked()).as("the follower linked nothing").isZero();
      // the links are visible in the database a moment before the leader has counted them
      TestBroker leader = first;
      Poll.until(
          "the leader counts the links of its batches",
          Duration.ofSeconds(30),
          () -> leader.app().auditSequencer().linked() >= 8);
      assertThat(oneLeader()).isTrue();

      first.close();
      first = null;
      TestBroker survivor = second;
      Poll.until(
          "the second instance takes over",
          Duration.ofSeconds(30),
          () -> survivor.app().auditSequencer().leading());
      survivor.createStore("after-takeover", "acme", "7390");
      AuditLinks.await(db);
      assertThat(survivor.app().auditSequencer().linked()).isPositive();
      String auditor = survivor.issueToken("AUDITOR", null);
      JsonObject verdict = survivor.get("/v1/audit/verify", auditor).json();
      assertThat(verdict.getBoolean("valid")).as(verdict.encode()).isTrue();
      // every event but the verification's own audit.read (appended after it) was seen
      assertThat(verdict.getLong("headSeq") + verdict.getLong("unlinkedEvents"))
          .isEqualTo(db.queryLong("SELECT count(*) FROM audit_entries") - 1);
    } finally {
      if (first != null) {
        first.close();
      }
      if (second != null) {
        second.close();
      }
    }
  }

  /** Two instances of one deployment share the database, the key file and the signing key. */
  private static TestBroker.Builder sharing(
      TestBroker.Builder builder, Path keys, TestDatabase db) {
    return builder
        .database(db)
        .env("LOCAL_KEK_FILE", keys.resolve("credentials.kek").toString())
        .env("AUDIT_SIGNING_KEY_FILE", keys.resolve("audit-signing-key.pem").toString());
  }

  /** Exactly one session holds the sequencer lock, and it is a sequencer's. */
  private boolean oneLeader() {
    List<Map<String, Object>> holders =
        db.query(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                + " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = ?",
            AuditLinkRepository.SEQUENCER_LOCK);
    return holders.size() == 1
        && "refund-broker-audit-sequencer".equals(holders.get(0).get("application_name"));
  }

  private record OpenTransaction(
      SqlConnection connection, Transaction transaction, List<UUID> events) {}

  private OpenTransaction begin() {
    SqlConnection connection = Await.result(database.pool().getConnection());
    return new OpenTransaction(connection, Await.result(connection.begin()), new ArrayList<>());
  }

  /** Appends in {@code connection}'s open transaction, or in a transaction of its own. */
  private UUID append(SqlConnection connection, String subject) {
    AuditEvent event =
        AuditEvent.success("test.sequenced", "test", subject, null, new JsonObject());
    Future<AuditEntry> appended =
        connection == null
            ? database
                .pool()
                .withTransaction(tx -> log.append(tx, Actor.system("test"), null, event))
            : log.append(connection, Actor.system("test"), null, event);
    return Await.result(appended).eventId();
  }

  private AuditSequencer sequencer(int maxBatch) {
    return sequencer(maxBatch, batch -> Future.succeededFuture());
  }

  private AuditSequencer sequencer(int maxBatch, AuditSequencer.BatchHook beforeCommit) {
    AuditSequencer sequencer =
        new AuditSequencer(
            vertx, database.connectOptions(), new AuditLinkRepository(), maxBatch, beforeCommit);
    sequencers.add(sequencer);
    return sequencer;
  }

  private List<Long> linkedSeqs() {
    return db.query("SELECT seq FROM audit_links ORDER BY seq").stream()
        .map(row -> ((Number) row.get("seq")).longValue())
        .toList();
  }

  private List<UUID> linkedIds() {
    return db.query("SELECT event_id FROM audit_links ORDER BY seq").stream()
        .map(row -> (UUID) row.get("event_id"))
        .toList();
  }

  /** Seqs 1..count, every hash and MAC right, checked by the verifier. */
  private void assertChainValid(long count) {
    assertThat(linkedSeqs()).hasSize((int) count);
    AuditVerifier verifier = new AuditVerifier(List.of(), List.of()).withMac(mac, Map.of());
    Await.result(
            new AuditTrailRepository().eventsAfter(database.pool(), 0, Long.MAX_VALUE, 100_000))
        .forEach(verifier::accept);
    AuditVerifier.Result result = verifier.finish();
    assertThat(result.valid()).as(result.toString()).isTrue();
    assertThat(result.headSeq()).isEqualTo(count);
  }
}

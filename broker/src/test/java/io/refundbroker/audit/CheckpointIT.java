package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.refundbroker.audit.signing.Ed25519PublicKey;
import io.refundbroker.audit.signing.LocalKeyFileSigner;
import io.refundbroker.caller.Actor;
import io.refundbroker.db.Database;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.Pem;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed checkpoints: made every N events or T seconds, never over an uncommitted head, exactly one
 * per round with several makers, a last one on shutdown, insert-only for everyone, and the signing
 * key never leaves its file.
 */
class CheckpointIT {

  @Test
  void aCheckpointIsSignedAfterEveryNEventsAndVerifiesWithThePublishedKey() {
    try (TestBroker broker =
        TestBroker.builder()
            .env("AUDIT_CHECKPOINT_EVERY", "3")
            .env("AUDIT_CHECKPOINT_INTERVAL", "24h")
            .start()) {
      String auditor = broker.issueToken("AUDITOR", null);
      broker.createStore("alta-1", "acme", "7001");
      broker.createStore("alta-2", "acme", "7002");
      awaitTrue(() -> checkpoints(broker.database()) > 0);

      Map<String, Object> row =
          broker
              .database()
              .query(
                  "SELECT c.seq, c.head_hash, e.hash FROM audit_checkpoints c"
                      + " JOIN audit_events e USING (seq) ORDER BY c.seq LIMIT 1")
              .get(0);
      assertThat(((Number) row.get("seq")).longValue()).isGreaterThanOrEqualTo(3);
      assertThat(row.get("head_hash")).isEqualTo(row.get("hash"));

      HttpResult key = broker.get("/v1/audit/public-key", auditor);
      Ed25519PublicKey publicKey = Ed25519PublicKey.fromPem(key.text());
      JsonObject exported =
          broker
              .get("/v1/audit/checkpoints", auditor)
              .json()
              .getJsonArray("checkpoints")
              .getJsonObject(0);
      Checkpoint checkpoint = Checkpoint.fromJson(exported);
      assertThat(checkpoint.keyId()).isEqualTo(key.header("X-Audit-Key-Id"));
      assertThat(publicKey.verifies(checkpoint.signedMessage(), checkpoint.signature())).isTrue();
      byte[] altered = checkpoint.signedMessage();
      altered[altered.length - 3] ^= 1;
      assertThat(publicKey.verifies(altered, checkpoint.signature())).isFalse();

      JsonObject verdict = broker.get("/v1/audit/verify", auditor).json();
      assertThat(verdict.getBoolean("valid")).as(verdict.encode()).isTrue();
      assertThat(verdict.getInteger("checkpointsVerified")).isPositive();
    }
  }

  @Test
  void aCheckpointIsSignedWhenTheOldestUnsignedEventIsIntervalOld() {
    try (TestBroker broker =
        TestBroker.builder()
            .env("AUDIT_CHECKPOINT_EVERY", "1000000")
            .env("AUDIT_CHECKPOINT_INTERVAL", "1s")
            .start()) {
      AuditLinks.await(broker.database());
      long head = broker.database().queryLong("SELECT max(seq) FROM audit_events");
      assertThat(head).isPositive();
      awaitTrue(
          () ->
              broker.database().queryLong("SELECT coalesce(max(seq), 0) FROM audit_checkpoints")
                  == head);
    }
  }

  @Test
  void shutdownSignsALastCheckpointOfTheHead() {
    TestBroker broker = TestBroker.start();
    TestDatabase database = broker.database();
    broker.createStore("vardo-1", "acme", "7101");
    assertThat(checkpoints(database)).isZero();
    broker.close();
    assertThat(database.queryLong("SELECT max(seq) FROM audit_checkpoints"))
        .isEqualTo(database.queryLong("SELECT max(seq) FROM audit_events"));
  }

  @Test
  void onlyOneMakerSignsEachRoundAndNeverAnUncommittedHead(@TempDir Path dir) throws Exception {
    TestDatabase database = TestPostgres.newDatabase();
    Vertx vertx = Vertx.vertx();
    WorkerExecutor worker = vertx.createSharedWorkerExecutor("test-audit", 2);
    Database first = Database.connect(vertx, database.appUrl(), 2, database.schemaVersion());
    Database second = Database.connect(vertx, database.appUrl(), 2, database.schemaVersion());
    try {
      LocalKeyFileSigner signer =
          Await.result(LocalKeyFileSigner.open(dir.resolve("key.pem"), worker));
      AuditTrailRepository trail = new AuditTrailRepository();
      Clock clock = Clock.systemUTC();
      AuditMac mac = AuditMac.random();
      AuditLog log = new AuditLog(clock, mac);
      AuditAlarms alarms = new AuditAlarms(first.pool(), log, new SimpleMeterRegistry());
      CheckpointService a =
          new CheckpointService(
              first.pool(),
              trail,
              signer,
              AuditMacKey.of(mac),
              alarms,
              worker,
              clock,
              1,
              Duration.ofHours(1));
      CheckpointService b =
          new CheckpointService(
              second.pool(),
              trail,
              signer,
              AuditMacKey.of(mac),
              alarms,
              worker,
              clock,
              1,
              Duration.ofHours(1));
      AuditSequencer sequencer =
          new AuditSequencer(
              vertx,
              first.connectOptions(),
              new AuditLinkRepository(),
              100,
              batch -> Future.succeededFuture());

      assertThat(Await.result(a.checkpointNow())).as("nothing to sign yet").isEmpty();
      for (int round = 0; round < 15; round++) {
        String subject = "r" + round;
        for (int i = 0; i <= round % 3; i++) {
          Await.result(
              first
                  .pool()
                  .withTransaction(
                      tx ->
                          log.append(
                              tx,
                              Actor.system("test"),
                              null,
                              AuditEvent.success(
                                  "test.event", "test", subject, null, new JsonObject()))));
        }
        assertThat(Await.result(sequencer.round())).isEqualTo(round % 3 + 1);
        List<Optional<Checkpoint>> made =
            Await.result(Future.all(a.checkpointNow(), b.checkpointNow())).list();
        long signed = made.stream().filter(Optional::isPresent).count();
        assertThat(signed).as("round %d: %s", round, made).isEqualTo(1);
        assertThat(Await.result(a.checkpointIfDue())).as("round %d: nothing new", round).isEmpty();
      }
      long head = database.queryLong("SELECT max(seq) FROM audit_events");
      assertThat(database.queryLong("SELECT max(seq) FROM audit_checkpoints")).isEqualTo(head);
      assertThat(
              database.queryLong(
                  "SELECT count(*) FROM audit_checkpoints c JOIN audit_events e USING (seq)"
                      + " WHERE c.head_hash <> e.hash"))
          .isZero();

      try (Connection app = database.appConnection()) {
        app.setAutoCommit(false);
        appendUncommitted(app, mac);
        assertThat(Await.result(a.checkpointNow()))
            .as("only the uncommitted event is new")
            .isEmpty();
        app.commit();
      }
      Optional<Checkpoint> afterCommit = Await.result(a.checkpointNow());
      assertThat(afterCommit).isPresent();
      assertThat(afterCommit.get().seq()).isEqualTo(head + 1);
      Await.result(sequencer.close());
    } finally {
      Await.result(first.close());
      Await.result(second.close());
      Await.result(vertx.close());
    }
  }

  @Test
  void checkpointsAreInsertOnlyForTheAppRoleAndRefusedByTheTriggerEvenForTheOwner()
      throws Exception {
    try (TestBroker broker = TestBroker.start()) {
      broker.createStore("hamar-1", "acme", "7201");
      AuditLinks.await(broker.database());
      long head = broker.database().queryLong("SELECT max(seq) FROM audit_events");
      String hash =
          (String)
              broker
                  .database()
                  .query("SELECT hash FROM audit_events WHERE seq = ?", head)
                  .get(0)
                  .get("hash");
      String signature = Base64.getEncoder().encodeToString(new byte[64]);
      try (Connection owner = broker.database().ownerConnection();
          Statement s = owner.createStatement()) {
        s.execute(
            "INSERT INTO audit_checkpoints (seq, head_hash, signed_at, key_id, signature) VALUES ("
                + head
                + ", '"
                + hash
                + "', now(), 'k', '"
                + signature
                + "')");
        assertThatThrownBy(() -> s.execute("UPDATE audit_checkpoints SET key_id = 'forged'"))
            .hasMessageContaining("append-only");
        assertThatThrownBy(() -> s.execute("DELETE FROM audit_checkpoints"))
            .hasMessageContaining("append-only");
        assertThatThrownBy(() -> s.execute("TRUNCATE audit_checkpoints"))
            .hasMessageContaining("append-only");
        assertThatThrownBy(
                () ->
                    s.execute(
                        "INSERT INTO audit_checkpoints (seq, head_hash, signed_at, key_id, signature)"
                            + " VALUES ("
                            + (head - 1)
                            + ", '"
                            + hash
                            + "', now(), 'k', '"
                            + signature
                            + "')"))
            .hasMessageContaining("does not move past the last checkpoint");
      }
      try (Connection app = broker.database().appConnection();
          Statement s = app.createStatement()) {
        for (String sql :
            List.of(
                "UPDATE audit_checkpoints SET key_id = 'forged'",
                "DELETE FROM audit_checkpoints",
                "TRUNCATE audit_checkpoints")) {
          assertThatThrownBy(() -> s.execute(sql))
              .as(sql)
              .isInstanceOf(SQLException.class)
              .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"))
              .hasMessageContaining("permission denied");
        }
        broker.createStore("hamar-2", "acme", "7202");
        AuditLinks.await(broker.database());
        long next = broker.database().queryLong("SELECT max(seq) FROM audit_events");
        assertThatThrownBy(
                () ->
                    s.execute(
                        "INSERT INTO audit_checkpoints (seq, head_hash, signed_at, key_id, signature)"
                            + " VALUES ("
                            + next
                            + ", '"
                            + "a".repeat(64)
                            + "', now(), 'k', '"
                            + signature
                            + "')"))
            .hasMessageContaining("does not match the trail");
      }
      assertThat(
              broker
                  .database()
                  .queryLong("SELECT count(*) FROM audit_checkpoints WHERE key_id = 'forged'"))
          .isZero();
    }
  }

  @Test
  void theSigningKeyIsOwnerOnlyAndNeverLeavesItsFile() throws Exception {
    String privateKeyBody;
    StringBuilder responses = new StringBuilder();
    try (LogCapture logs = LogCapture.atTrace()) {
      try (TestBroker broker = TestBroker.builder().env("AUDIT_CHECKPOINT_EVERY", "1").start()) {
        Path keyFile = broker.config().audit().signingKeyFile();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)))
            .isEqualTo("rw-------");
        PemObject pem = Pem.read(Files.readString(keyFile));
        assertThat(pem.getType()).isEqualTo("PRIVATE KEY");
        privateKeyBody = Base64.getEncoder().encodeToString(pem.getContent());
        String auditor = broker.issueToken("AUDITOR", null);
        awaitTrue(() -> checkpoints(broker.database()) > 0);
        for (String path :
            List.of(
                "/v1/audit/public-key",
                "/v1/audit/checkpoints",
                "/v1/audit/events",
                "/v1/audit/verify")) {
          responses.append(broker.get(path, auditor).text());
        }
        responses.append(broker.get("/metrics", null).text());
      }
      assertThat(logs.events()).isPositive();
      assertThat(logs.text())
          .doesNotContain(privateKeyBody)
          .doesNotContain(privateKeyBody.substring(16, 48));
    }
    assertThat(responses.toString()).doesNotContain(privateKeyBody.substring(16, 48));
  }

  /** A genuine event and its link, inserted in {@code app}'s open transaction. */
  private static void appendUncommitted(Connection app, AuditMac mac) throws SQLException {
    long seq;
    String prev;
    try (Statement s = app.createStatement();
        ResultSet head =
            s.executeQuery("SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1")) {
      head.next();
      seq = head.getLong(1) + 1;
      prev = head.getString(2);
    }
    ChainedEvent event =
        ChainedEvent.chain(
            seq,
            AuditEntry.create(
                Instant.now(),
                Actor.system("test"),
                null,
                AuditEvent.success("test.uncommitted", "test", "x", null, new JsonObject()),
                mac),
            prev);
    try (PreparedStatement insert =
        app.prepareStatement(
            "INSERT INTO audit_entries (event_id, occurred_at, actor_client_id, actor_role, action,"
                + " subject_type, subject_id, outcome, details, entry_hash, mac)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}'::jsonb, ?, ?)")) {
      insert.setObject(1, event.entry().eventId());
      insert.setObject(2, event.occurredAt().atOffset(ZoneOffset.UTC));
      insert.setString(3, event.actor().clientId());
      insert.setString(4, event.actor().role());
      insert.setString(5, event.action());
      insert.setString(6, event.subjectType());
      insert.setString(7, event.subjectId());
      insert.setString(8, event.outcome());
      insert.setString(9, event.entry().entryHash());
      insert.setString(10, event.entry().mac());
      insert.executeUpdate();
    }
    try (PreparedStatement link =
        app.prepareStatement(
            "INSERT INTO audit_links (seq, event_id, prev_hash, hash) VALUES (?, ?, ?, ?)")) {
      link.setLong(1, event.seq());
      link.setObject(2, event.entry().eventId());
      link.setString(3, event.prevHash());
      link.setString(4, event.hash());
      link.executeUpdate();
    }
  }

  private static long checkpoints(TestDatabase database) {
    return database.queryLong("SELECT count(*) FROM audit_checkpoints");
  }

  /** Polls on a timer (no sleeping thread) until the condition holds, at most 20 s. */
  private static void awaitTrue(BooleanSupplier condition) {
    Vertx poller = Vertx.vertx();
    try {
      Promise<Void> met = Promise.promise();
      poller.setPeriodic(
          50,
          id ->
              poller
                  .executeBlocking(condition::getAsBoolean)
                  .onSuccess(
                      ok -> {
                        if (ok) {
                          met.tryComplete();
                        }
                      }));
      Await.result(met.future(), Duration.ofSeconds(20));
    } finally {
      Await.result(poller.close());
    }
  }
}

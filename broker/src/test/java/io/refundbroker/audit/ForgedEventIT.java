package io.refundbroker.audit;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.caller.Actor;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Issue #10: whoever can INSERT into the audit trail (the broker's own database role) appends a
 * well-formed event — continuing the chain, hash correct — without the broker's MAC key. {@code GET
 * /v1/audit/verify} names it, the checkpointer never signs over it and raises the alarm (ERROR log,
 * {@code audit_alarms_total}, an {@code audit.alarm} event), and checkpoints resume only once an
 * admin acknowledges it.
 */
class ForgedEventIT {
  private static final Duration WITHIN = Duration.ofSeconds(30);

  @Test
  void anEventTheSequencerLinkedForTheAppRoleIsNamedAlarmedAndNeverSigned() throws Exception {
    try (LogCapture logs = LogCapture.atTrace();
        TestBroker broker = signingEveryEvent()) {
      String auditor = broker.issueToken("AUDITOR", null);
      broker.createStore("forge-1", "acme", "8101");
      long signed = awaitEverythingSigned(broker);

      UUID forgedId;
      try (Connection app = broker.database().appConnection()) {
        forgedId = insertForgedEntry(app).eventId();
      }
      long forged = awaitLinked(broker, forgedId);
      assertThat(forged).isGreaterThan(signed);
      broker.createStore("forge-2", "acme", "8102");

      awaitAlarm(broker, forged);
      assertThat(Await.result(broker.app().auditCheckpoints().checkpointNow())).isEmpty();
      assertThat(lastCheckpoint(broker)).as("signed up to the event before").isEqualTo(forged - 1);

      JsonObject verdict = broker.get("/v1/audit/verify", auditor).json();
      assertThat(verdict.getBoolean("valid")).as(verdict.encode()).isFalse();
      assertThat(verdict.getLong("firstInvalidSeq")).isEqualTo(forged);
      assertThat(verdict.getString("reason"))
          .contains("event " + forged + " carries no valid MAC")
          .contains("not appended by the broker");

      assertThat(logs.text())
          .contains("AUDIT ALARM")
          .contains("seq=" + forged)
          .contains("no valid MAC");
      assertThat(broker.get("/metrics", null).text()).contains("audit_alarms_total 1.0");
      Map<String, Object> alarm = alarmEvent(broker, forged);
      assertThat(alarm.get("outcome")).isEqualTo("ALARM");
      assertThat(new JsonObject((String) alarm.get("details")).getLong("seq")).isEqualTo(forged);

      acknowledgeAndSignPast(broker, auditor, forged);
    }
  }

  @Test
  void anEventTheAppRoleLinksItselfIsNamedAlarmedAndNeverSigned() throws Exception {
    try (TestBroker broker = signingEveryEvent()) {
      String auditor = broker.issueToken("AUDITOR", null);
      awaitEverythingSigned(broker);

      long forged;
      try (Connection app = broker.database().appConnection()) {
        app.setAutoCommit(false);
        AuditEntry entry = insertForgedEntry(app);
        Map<String, Object> head =
            broker
                .database()
                .query("SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1")
                .get(0);
        ChainedEvent event =
            ChainedEvent.chain(
                ((Number) head.get("seq")).longValue() + 1, entry, (String) head.get("hash"));
        try (PreparedStatement link =
            app.prepareStatement(
                "INSERT INTO audit_links (seq, event_id, prev_hash, hash) VALUES (?, ?, ?, ?)")) {
          link.setLong(1, event.seq());
          link.setObject(2, entry.eventId());
          link.setString(3, event.prevHash());
          link.setString(4, event.hash());
          link.executeUpdate();
        }
        app.commit();
        forged = event.seq();
      }

      awaitAlarm(broker, forged);
      assertThat(Await.result(broker.app().auditCheckpoints().checkpointNow())).isEmpty();
      assertThat(lastCheckpoint(broker)).isEqualTo(forged - 1);
      JsonObject verdict = broker.get("/v1/audit/verify", auditor).json();
      assertThat(verdict.getLong("firstInvalidSeq")).as(verdict.encode()).isEqualTo(forged);
      assertThat(verdict.getString("reason")).contains("no valid MAC");
    }
  }

  /** The admin acknowledges the forgery: checkpoints cover it and its acknowledgement again. */
  private static void acknowledgeAndSignPast(TestBroker broker, String auditor, long forged) {
    assertProblem(
        broker.post(
            "/v1/admin/audit/forgeries",
            broker.adminToken(),
            new JsonObject().put("seq", forged - 1).put("reason", "checked")),
        409,
        "AUDIT_EVENT_GENUINE");
    assertProblem(
        broker.post(
            "/v1/admin/audit/forgeries",
            broker.adminToken(),
            new JsonObject().put("seq", 9_999_999).put("reason", "checked")),
        404,
        "AUDIT_EVENT_NOT_FOUND");
    assertProblem(
        broker.post(
            "/v1/admin/audit/forgeries",
            auditor,
            new JsonObject().put("seq", forged).put("reason", "checked")),
        403,
        "FORBIDDEN");

    HttpResult acknowledged =
        broker.post(
            "/v1/admin/audit/forgeries",
            broker.adminToken(),
            new JsonObject()
                .put("seq", forged)
                .put("reason", "inserted by the test as the app role"));
    assertThat(acknowledged.status()).as(acknowledged.toString()).isEqualTo(201);
    String hash =
        (String)
            broker
                .database()
                .query("SELECT hash FROM audit_links WHERE seq = ?", forged)
                .get(0)
                .get("hash");
    assertThat(acknowledged.json().getString("hash")).isEqualTo(hash);
    UUID ackId = UUID.fromString(acknowledged.json().getString("acknowledgementEventId"));
    long ack = awaitLinked(broker, ackId);

    Await.result(broker.app().auditCheckpoints().checkpointNow());
    assertThat(lastCheckpoint(broker)).as("signed past the forgery").isGreaterThanOrEqualTo(ack);
    JsonObject verdict = broker.get("/v1/audit/verify", auditor).json();
    assertThat(verdict.getBoolean("valid")).as(verdict.encode()).isTrue();
    assertThat(verdict.getJsonArray("acknowledgedForgeries").stream())
        .map(seq -> ((Number) seq).longValue())
        .containsExactly(forged);
  }

  private static TestBroker signingEveryEvent() {
    return TestBroker.builder()
        .env("AUDIT_CHECKPOINT_EVERY", "1")
        .env("AUDIT_CHECKPOINT_INTERVAL", "24h")
        .start();
  }

  /**
   * What an insider with the broker's database role can write: a well-formed event with the right
   * entry hash, and a MAC — under a key of its own, since the broker's never enters the database.
   */
  private static AuditEntry insertForgedEntry(Connection app) throws SQLException {
    AuditEntry entry =
        AuditEntry.create(
            Instant.now(),
            new Actor("cl_till", "STORE", "forge-1"),
            "req-forged",
            AuditEvent.success(
                "refund.succeeded",
                "refund",
                UUID.randomUUID().toString(),
                "acme",
                new JsonObject().put("amount", new JsonObject().put("value", 99_900))),
            AuditMac.random());
    try (PreparedStatement insert =
        app.prepareStatement(
            "INSERT INTO audit_entries (event_id, occurred_at, actor_client_id, actor_role,"
                + " actor_store_id, action, subject_type, subject_id, chain_id, outcome,"
                + " request_id, details, entry_hash, mac)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)")) {
      insert.setObject(1, entry.eventId());
      insert.setObject(2, entry.occurredAt().atOffset(ZoneOffset.UTC));
      insert.setString(3, entry.actor().clientId());
      insert.setString(4, entry.actor().role());
      insert.setString(5, entry.actor().storeId());
      insert.setString(6, entry.action());
      insert.setString(7, entry.subjectType());
      insert.setString(8, entry.subjectId());
      insert.setString(9, entry.chainId());
      insert.setString(10, entry.outcome());
      insert.setString(11, entry.requestId());
      insert.setString(12, entry.details().encode());
      insert.setString(13, entry.entryHash());
      insert.setString(14, entry.mac());
      insert.executeUpdate();
    }
    return entry;
  }

  /** Waits until every event is linked and the head is signed; returns the head's seq. */
  private static long awaitEverythingSigned(TestBroker broker) {
    AuditLinks.await(broker.database());
    long head = broker.database().queryLong("SELECT max(seq) FROM audit_links");
    Poll.until("the head signed", WITHIN, () -> lastCheckpoint(broker) == head);
    return head;
  }

  private static long awaitLinked(TestBroker broker, UUID eventId) {
    return Poll.value(
        "event " + eventId + " linked",
        WITHIN,
        () -> {
          List<Map<String, Object>> rows =
              broker.database().query("SELECT seq FROM audit_links WHERE event_id = ?", eventId);
          return rows.isEmpty() ? null : ((Number) rows.get(0).get("seq")).longValue();
        });
  }

  private static void awaitAlarm(TestBroker broker, long seq) {
    Poll.until("the alarm about event " + seq, WITHIN, () -> alarmEvent(broker, seq) != null);
  }

  private static Map<String, Object> alarmEvent(TestBroker broker, long seq) {
    List<Map<String, Object>> rows =
        broker
            .database()
            .query(
                "SELECT outcome, details::text AS details FROM audit_events"
                    + " WHERE action = 'audit.alarm' AND subject_id = ?",
                Long.toString(seq));
    return rows.isEmpty() ? null : rows.get(0);
  }

  private static long lastCheckpoint(TestBroker broker) {
    return broker.database().queryLong("SELECT coalesce(max(seq), 0) FROM audit_checkpoints");
  }
}

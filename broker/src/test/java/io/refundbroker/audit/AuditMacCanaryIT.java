package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.caller.Actor;
import io.refundbroker.credential.local.LocalCredentialBackend;
import io.refundbroker.db.Database;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit MAC key is a canary: seeded into the local credential backend before the broker starts,
 * proved to be the key every event is MAC'd with, and then found nowhere — not in a log line (at
 * TRACE, through an alarm), a response (events, exports, verification, acknowledgement), a metric
 * or any database column — in any of its spellings.
 */
class AuditMacCanaryIT {
  @TempDir Path dir;

  @Test
  void theMacKeyNeverLeavesTheCredentialBackend() throws Exception {
    TestDatabase db = TestPostgres.newDatabase();
    Path kek = dir.resolve("credentials.kek");
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    seed(db, kek, Base64.getEncoder().encodeToString(key));
    Map<String, String> canaries =
        Map.of(
            "MAC key, base64", Base64.getEncoder().encodeToString(key),
            "MAC key, base64url", Base64.getUrlEncoder().withoutPadding().encodeToString(key),
            "MAC key, hex", HexFormat.of().formatHex(key),
            "MAC key, HEX", HexFormat.of().withUpperCase().formatHex(key),
            "MAC key, hex middle", HexFormat.of().formatHex(key).substring(16, 48));

    List<String> responses = new ArrayList<>();
    String logText;
    String anEventMac;
    try (LogCapture logs = LogCapture.atTrace()) {
      try (TestBroker broker =
          TestBroker.builder()
              .database(db)
              .env("LOCAL_KEK_FILE", kek.toString())
              .env("AUDIT_CHECKPOINT_EVERY", "1")
              .start()) {
        String auditor = broker.issueToken("AUDITOR", null);
        broker.createStore("canary-1", "acme", "6101");
        AuditLinks.await(db);

        HttpResult page = broker.get("/v1/audit/events?limit=1000", auditor);
        responses.add(page.text());
        ChainedEvent created =
            page.json().getJsonArray("events").stream()
                .map(e -> ChainedEvent.fromJson((JsonObject) e))
                .filter(e -> e.action().equals("store.created"))
                .findFirst()
                .orElseThrow();
        assertThat(created.entry().mac())
            .as("the broker MACs with the seeded key")
            .isEqualTo(hmac(key, created.entry().canonical()));
        assertThat(broker.app().auditMac().toString()).doesNotContain(canaries.get("MAC key, hex"));
        anEventMac = created.entry().mac();

        long forged = forge(broker);
        Poll.until(
            "the alarm",
            Duration.ofSeconds(30),
            () ->
                db.queryLong(
                        "SELECT count(*) FROM audit_events WHERE action = 'audit.alarm'"
                            + " AND subject_id = ?",
                        Long.toString(forged))
                    == 1);
        responses.add(broker.get("/v1/audit/verify", auditor).text());
        responses.add(
            broker
                .post(
                    "/v1/admin/audit/forgeries",
                    broker.adminToken(),
                    new JsonObject().put("seq", forged).put("reason", "canary test"))
                .text());
        AuditLinks.await(db);
        for (String path : List.of("/v1/audit/events", "/v1/audit/checkpoints")) {
          responses.add(
              broker
                  .send(
                      HttpMethod.GET, path, auditor, null, Map.of("Accept", "application/x-ndjson"))
                  .text());
        }
        responses.add(broker.get("/v1/audit/verify", auditor).text());
        responses.add(broker.get("/metrics", null).text());
        responses.add(broker.registry().scrape());
      }
      logText = logs.text();
      assertThat(logText).contains("AUDIT ALARM");
    }

    assertThat(columnsHolding(db, Map.of("an event's MAC", anEventMac), new byte[] {1, 2, 3}))
        .as("the column search finds what is there")
        .containsOnlyKeys("audit_entries.mac");
    assertThat(String.join("\n", responses)).as("the response search").contains(anEventMac);
    assertThat(found(logText, canaries)).as("the MAC key in the logs").isEmpty();
    assertThat(found(String.join("\n", responses), canaries))
        .as("the MAC key in a response or metric")
        .isEmpty();
    assertThat(columnsHolding(db, canaries, key)).as("columns holding the MAC key").isEmpty();
  }

  /** Stores the key as the broker secret before any broker runs, as an operator could. */
  private static void seed(TestDatabase db, Path kek, String base64Key) {
    Vertx vertx = Vertx.vertx();
    Database database = Database.connect(vertx, db.appUrl(), 2, db.schemaVersion());
    try {
      LocalCredentialBackend backend =
          Await.result(LocalCredentialBackend.open(vertx, database.pool(), kek));
      Map<String, String> stored =
          Await.result(
              backend.brokerSecret(
                  AuditMac.SECRET, () -> Future.succeededFuture(Map.of("key", base64Key))));
      assertThat(stored).containsEntry("key", base64Key);
      Await.result(backend.close());
    } finally {
      Await.result(database.close());
      Await.result(vertx.close());
    }
  }

  /** An event inserted as the application role, with a MAC under a key of its own. */
  private static long forge(TestBroker broker) throws Exception {
    AuditEntry entry =
        AuditEntry.create(
            Instant.now(),
            Actor.system("insider"),
            null,
            AuditEvent.success("refund.succeeded", "refund", "r-canary", null, new JsonObject()),
            AuditMac.random());
    try (Connection app = broker.database().appConnection();
        PreparedStatement insert =
            app.prepareStatement(
                "INSERT INTO audit_entries (event_id, occurred_at, actor_client_id, actor_role,"
                    + " action, subject_type, subject_id, outcome, details, entry_hash, mac)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)")) {
      insert.setObject(1, entry.eventId());
      insert.setObject(2, entry.occurredAt().atOffset(ZoneOffset.UTC));
      insert.setString(3, entry.actor().clientId());
      insert.setString(4, entry.actor().role());
      insert.setString(5, entry.action());
      insert.setString(6, entry.subjectType());
      insert.setString(7, entry.subjectId());
      insert.setString(8, entry.outcome());
      insert.setString(9, entry.entryHash());
      insert.setString(10, entry.mac());
      insert.executeUpdate();
    }
    UUID id = entry.eventId();
    return Poll.value(
        "the forged event linked",
        Duration.ofSeconds(30),
        () -> {
          List<Map<String, Object>> rows =
              broker.database().query("SELECT seq FROM audit_links WHERE event_id = ?", id);
          return rows.isEmpty() ? null : ((Number) rows.get(0).get("seq")).longValue();
        });
  }

  private static String hmac(byte[] key, String text) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
  }

  private static List<String> found(String text, Map<String, String> canaries) {
    return canaries.entrySet().stream()
        .filter(c -> text.contains(c.getValue()))
        .map(Map.Entry::getKey)
        .toList();
  }

  /**
   * Every text-like or binary column of every table, searched for each spelling of the key (and
   * binary columns for its raw bytes): column → what was found.
   */
  private static Map<String, List<String>> columnsHolding(
      TestDatabase db, Map<String, String> canaries, byte[] raw) {
    List<Map<String, Object>> columns =
        db.query(
            "SELECT c.table_schema, c.table_name, c.column_name, c.data_type"
                + " FROM information_schema.columns c JOIN information_schema.tables t"
                + " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
                + " WHERE t.table_type = 'BASE TABLE'"
                + " AND c.table_schema NOT IN ('pg_catalog', 'information_schema')"
                + " AND c.data_type IN ('text', 'character varying', 'character', 'json',"
                + " 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED')");
    assertThat(columns)
        .extracting(c -> c.get("table_name"))
        .contains("audit_entries", "audit_links", "broker_secrets");
    Map<String, List<String>> holding = new TreeMap<>();
    for (Map<String, Object> column : columns) {
      String table = "\"" + column.get("table_schema") + "\".\"" + column.get("table_name") + "\"";
      String name = "x.\"" + column.get("column_name") + "\"";
      boolean binary = "bytea".equals(column.get("data_type"));
      List<String> hits = new ArrayList<>();
      for (Map.Entry<String, String> canary : canaries.entrySet()) {
        String match =
            binary
                ? "position(convert_to(?, 'UTF8') in " + name + ") > 0"
                : "position(? in " + name + "::text) > 0";
        if (db.queryLong("SELECT count(*) FROM " + table + " x WHERE " + match, canary.getValue())
            > 0) {
          hits.add(canary.getKey());
        }
      }
      if (binary
          && db.queryLong(
                  "SELECT count(*) FROM " + table + " x WHERE position(? in " + name + ") > 0",
                  (Object) raw)
              > 0) {
        hits.add("MAC key, raw bytes");
      }
      if (!hits.isEmpty()) {
        holding.put(column.get("table_name") + "." + column.get("column_name"), hits);
      }
    }
    return holding;
  }
}

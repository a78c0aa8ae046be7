package io.refundbroker.audit;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.audit.signing.Ed25519PublicKey;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The auditor's API: every read is audited first; events, checkpoints and the key as exported. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditApiIT {
  private TestBroker broker;
  private String auditorToken;
  private String auditorClientId;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
    broker.createStore("oslo-1", "acme", "5001");
    broker.createStore("bergen-1", "acme", "5002");
    auditorToken = broker.issueToken("AUDITOR", null);
    auditorClientId =
        (String)
            broker
                .database()
                .query("SELECT client_id FROM api_clients WHERE role = 'AUDITOR'")
                .get(0)
                .get("client_id");
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "/v1/audit/refunds, application/json, refunds, json",
    "/v1/audit/refunds?status=SUCCEEDED, text/csv, refunds, csv",
    "/v1/audit/events?limit=5, application/json, events, json",
    "/v1/audit/events, application/x-ndjson, events, jsonl",
    "/v1/audit/checkpoints, application/json, checkpoints, json",
    "/v1/audit/checkpoints, application/x-ndjson, checkpoints, jsonl",
    "/v1/audit/public-key, application/x-pem-file, public-key, pem",
    "/v1/audit/public-keys, application/json, public-keys, json",
    "/v1/audit/verify, application/json, verify, json",
    "/v1/audit/clearing?chainId=acme&month=2025-01, application/json, clearing, json",
    "/v1/audit/clearing?chainId=acme&month=2025-01, text/csv, clearing, csv"
  })
  void everyReadAppendsOneAuditReadEventNamingWhatWasRead(
      String path, String accept, String resource, String format) {
    long before = count();
    HttpResult result = get(path, accept);
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    assertThat(result.header("Content-Type")).startsWith(accept);
    assertThat(count()).isEqualTo(before + 1);

    AuditLinks.await(broker.database());
    Map<String, Object> event =
        broker
            .database()
            .query(
                "SELECT action, actor_client_id, actor_role, subject_type, subject_id, request_id,"
                    + " details::text AS details FROM audit_events ORDER BY seq DESC LIMIT 1")
            .get(0);
    assertThat(event.get("action")).isEqualTo("audit.read");
    assertThat(event.get("actor_role")).isEqualTo("AUDITOR");
    assertThat(event.get("actor_client_id")).isEqualTo(auditorClientId);
    assertThat(event.get("subject_type")).isEqualTo("audit");
    assertThat(event.get("subject_id")).isEqualTo(resource);
    assertThat(event.get("request_id")).isEqualTo(result.header("X-Request-Id"));
    JsonObject details = new JsonObject((String) event.get("details"));
    assertThat(details.getString("resource")).isEqualTo(resource);
    assertThat(details.getString("format")).isEqualTo(format);
  }

  @Test
  void readsRecordTheirFiltersAndResults() {
    get("/v1/audit/refunds?chainId=acme&status=FAILED&limit=3", "application/json");
    JsonObject details = lastDetails();
    assertThat(details.getJsonObject("filters"))
        .isEqualTo(new JsonObject().put("chainId", "acme").put("status", "FAILED"));
    assertThat(details.getInteger("limit")).isEqualTo(3);
    assertThat(details.getInteger("returned")).isZero();

    JsonObject verdict = get("/v1/audit/verify", "application/json").json();
    JsonObject recorded = lastDetails();
    assertThat(recorded.getBoolean("valid")).isEqualTo(verdict.getBoolean("valid")).isTrue();
    assertThat(recorded.getLong("headSeq")).isEqualTo(verdict.getLong("headSeq"));
  }

  @Test
  void eventPagesAndTheExportAgreeWithTheChain() {
    List<JsonObject> paged = new ArrayList<>();
    Long after = 0L;
    int pages = 0;
    while (after != null) {
      JsonObject page =
          get("/v1/audit/events?limit=2&afterSeq=" + after, "application/json").json();
      page.getJsonArray("events").forEach(e -> paged.add((JsonObject) e));
      after = page.getLong("nextAfterSeq");
      pages++;
      assertThat(pages).isLessThan(100);
    }
    assertThat(paged).isNotEmpty();
    for (int i = 0; i < paged.size(); i++) {
      ChainedEvent event = ChainedEvent.fromJson(paged.get(i));
      assertThat(event.seq()).isEqualTo(i + 1L);
      assertThat(event.computeHash()).isEqualTo(event.hash());
      if (i > 0) {
        assertThat(event.prevHash()).isEqualTo(paged.get(i - 1).getString("hash"));
      }
    }

    AuditLinks.await(broker.database());
    long head = broker.database().queryLong("SELECT max(seq) FROM audit_events");
    String export = get("/v1/audit/events?afterSeq=3", "application/x-ndjson").text();
    List<String> lines = export.lines().toList();
    // the export reaches the head as it was when it began; its own audit.read event, committed
    // before the first line was sent, is linked moments later and opens the next export
    assertThat(lines).hasSize((int) (head - 3));
    assertThat(ChainedEvent.fromJson(new JsonObject(lines.get(lines.size() - 1))).seq())
        .isEqualTo(head);
    AuditLinks.await(broker.database());
    String next = get("/v1/audit/events?afterSeq=" + head, "application/x-ndjson").text();
    ChainedEvent own =
        ChainedEvent.fromJson(new JsonObject(next.lines().findFirst().orElseThrow()));
    assertThat(own.seq()).isEqualTo(head + 1);
    assertThat(own.action()).isEqualTo("audit.read");
    assertThat(own.details().getString("format")).isEqualTo("jsonl");
    assertThat(own.details().getLong("afterSeq")).isEqualTo(3);
    lines.forEach(
        line -> {
          ChainedEvent event = ChainedEvent.fromJson(new JsonObject(line));
          assertThat(event.computeHash()).as(line).isEqualTo(event.hash());
        });

    String limited = get("/v1/audit/events?limit=2", "application/x-ndjson").text();
    assertThat(limited.lines()).hasSize(2);
  }

  @Test
  void publicKeyIsAPemBlockNamedByItsKeyId() {
    HttpResult key = get("/v1/audit/public-key", "application/x-pem-file");
    assertThat(key.text()).startsWith("-----BEGIN PUBLIC KEY-----");
    Ed25519PublicKey parsed = Ed25519PublicKey.fromPem(key.text());
    assertThat(key.header("X-Audit-Key-Id")).isEqualTo("local");
    assertThat(key.header("X-Audit-Key-Version")).isEqualTo(parsed.fingerprint());
  }

  @Test
  void publicKeysListTheCurrentKeyWithTheCheckpointsItSigned() {
    HttpResult keys = get("/v1/audit/public-keys", "application/json");
    assertThat(keys.status()).as(keys.toString()).isEqualTo(200);
    JsonArray list = keys.json().getJsonArray("keys");
    assertThat(list).hasSize(1);
    JsonObject key = list.getJsonObject(0);
    Ed25519PublicKey parsed = Ed25519PublicKey.fromPem(key.getString("publicKeyPem"));
    assertThat(key.getString("keyId")).isEqualTo("local");
    assertThat(key.getString("keyVersion")).isEqualTo(parsed.fingerprint());
    assertThat(key.getString("fingerprint")).isEqualTo(parsed.fingerprint());
    assertThat(key.getString("algorithm")).isEqualTo("Ed25519");
    assertThat(key.getBoolean("current")).isTrue();
    assertThat(CheckpointKeys.readKeySet(keys.json()))
        .singleElement()
        .satisfies(k -> assertThat(k.publicKey()).isEqualTo(parsed));
  }

  @Test
  void badQueriesAreRefusedAndAuditNothing() {
    long before = count();
    assertProblem(get("/v1/audit/events?limit=1001", "application/json"), 400, "LIMIT_TOO_LARGE");
    assertProblem(
        get("/v1/audit/refunds?cursor=bm9wZQ", "application/json"), 400, "INVALID_CURSOR");
    assertProblem(get("/v1/audit/refunds?from=yesterday", "application/json"), 400, "INVALID_TIME");
    assertProblem(
        get(
            "/v1/audit/refunds?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z",
            "application/json"),
        400,
        "INVALID_TIME_RANGE");
    assertProblem(
        get("/v1/audit/clearing?chainId=acme&month=2025-13", "application/json"),
        400,
        "VALIDATION_FAILED");
    assertProblem(
        get("/v1/audit/clearing?month=2025-01", "application/json"), 400, "MISSING_PARAMETER");
    assertProblem(
        get("/v1/audit/clearing?chainId=nope&month=2025-01", "application/json"),
        404,
        "CHAIN_NOT_FOUND");
    assertProblem(
        get("/v1/audit/events?afterSeq=-1", "application/json"), 400, "VALIDATION_FAILED");
    assertThat(count()).isEqualTo(before);
  }

  @Test
  void checkpointsPageIsEmptyBeforeTheFirstCheckpoint() {
    JsonArray checkpoints =
        get("/v1/audit/checkpoints", "application/json").json().getJsonArray("checkpoints");
    assertThat(checkpoints).isEmpty();
  }

  private HttpResult get(String path, String accept) {
    return broker.send(HttpMethod.GET, path, auditorToken, null, Map.of("Accept", accept));
  }

  private long count() {
    return broker.database().queryLong("SELECT count(*) FROM audit_events");
  }

  private JsonObject lastDetails() {
    AuditLinks.await(broker.database());
    return new JsonObject(
        (String)
            broker
                .database()
                .query("SELECT details::text AS d FROM audit_events ORDER BY seq DESC LIMIT 1")
                .get(0)
                .get("d"));
  }
}

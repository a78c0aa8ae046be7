package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The refund log (filters, stable cursor paging, CSV export) and the clearing statement, over
 * refund rows inserted directly by the database owner.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefundLogIT {
  private static final Instant BASE = Instant.parse("2025-01-10T08:00:00Z");
  private TestBroker broker;
  private String auditorToken;
  private final Map<String, String> clientOf = new java.util.HashMap<>();
  private int orders;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
    broker.createStore("oslo-1", "acme", "6001");
    broker.createStore("bergen-1", "acme", "6002");
    broker.createStore("tromso-1", "acme", "6003");
    broker.createStore("beta-1", "beta", "6004");
    for (String store : List.of("oslo-1", "bergen-1", "tromso-1", "beta-1")) {
      broker.issueToken("STORE", store);
      clientOf.put(
          store,
          (String)
              broker
                  .database()
                  .query("SELECT client_id FROM api_clients WHERE store_id = ?", store)
                  .get(0)
                  .get("client_id"));
    }
    auditorToken = broker.issueToken("AUDITOR", null);
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  /** A refund row as the refund flow would write it. */
  private record Refund(
      UUID id,
      String requesting,
      String origin,
      String chain,
      long amount,
      String currency,
      String status,
      String reason,
      String orderId,
      Instant createdAt,
      Instant completedAt,
      String failureCode) {}

  private Refund refund(
      String requesting,
      String origin,
      String chain,
      long amount,
      String currency,
      String status,
      Instant createdAt,
      Instant completedAt) {
    return new Refund(
        UUID.randomUUID(),
        requesting,
        origin,
        chain,
        amount,
        currency,
        status,
        "damaged",
        "ORD-" + (++orders),
        createdAt,
        completedAt,
        null);
  }

  private void insert(Refund... refunds) {
    try (Connection c = broker.database().ownerConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement order =
              c.prepareStatement(
                  "INSERT INTO orders (store_id, order_id, amount_value, currency, source,"
                      + " registered_by) VALUES (?, ?, ?, ?, 'REGISTERED', 'test')"
                      + " ON CONFLICT DO NOTHING");
          PreparedStatement refund =
              c.prepareStatement(
                  "INSERT INTO refunds (refund_id, requesting_client_id, requesting_store_id,"
                      + " origin_store_id, order_id, chain_id, msn, api, amount_value, currency,"
                      + " reason, status, upstream_key, failure_code, credentials_version,"
                      + " attempts, created_at, updated_at, completed_at)"
                      + " VALUES (?, ?, ?, ?, ?, ?, (SELECT msn FROM stores WHERE store_id = ?),"
                      + " 'epayment', ?, ?, ?, ?, ?, ?, 3, 1, ?, ?, ?)")) {
        for (Refund r : refunds) {
          order.setString(1, r.origin());
          order.setString(2, r.orderId());
          order.setLong(3, 65_000_000);
          order.setString(4, r.currency());
          order.executeUpdate();
          refund.setObject(1, r.id());
          refund.setString(2, clientOf.get(r.requesting()));
          refund.setString(3, r.requesting());
          refund.setString(4, r.origin());
          refund.setString(5, r.orderId());
          refund.setString(6, r.chain());
          refund.setString(7, r.origin());
          refund.setLong(8, r.amount());
          refund.setString(9, r.currency());
          refund.setString(10, r.reason());
          refund.setString(11, r.status());
          refund.setString(12, r.id().toString());
          refund.setString(13, r.failureCode());
          refund.setObject(14, r.createdAt().atOffset(ZoneOffset.UTC));
          refund.setObject(15, r.createdAt().atOffset(ZoneOffset.UTC));
          refund.setObject(
              16, r.completedAt() == null ? null : r.completedAt().atOffset(ZoneOffset.UTC));
          refund.executeUpdate();
        }
      }
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void cursorPagingReturnsEveryRowOnceInAStableOrderWhileRowsAreInserted() {
    String chain = "acme";
    List<Refund> original = new ArrayList<>();
    for (int i = 0; i < 23; i++) {
      // groups of three share a creation time: the refund id breaks the tie
      Instant at = BASE.plusSeconds(3600L * 24 * 30 + i / 3);
      original.add(refund("oslo-1", "bergen-1", chain, 100 + i, "NOK", "PENDING", at, null));
    }
    insert(original.toArray(Refund[]::new));
    String filter = "requestingStoreId=oslo-1&status=PENDING";

    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonObject page =
          get(
                  "/v1/audit/refunds?limit=5&"
                      + filter
                      + (cursor == null ? "" : "&cursor=" + cursor),
                  "application/json")
              .json();
      page.getJsonArray("refunds").forEach(r -> seen.add(((JsonObject) r).getString("refundId")));
      cursor = page.getString("nextCursor");
      // rows created meanwhile: one later than everything, one before the cursor
      insert(
          refund(
              "oslo-1",
              "tromso-1",
              chain,
              1,
              "NOK",
              "PENDING",
              BASE.plusSeconds(9_000_000L + pages),
              null),
          refund(
              "oslo-1",
              "tromso-1",
              chain,
              1,
              "NOK",
              "PENDING",
              BASE.plusSeconds(3600L * 24 * 30),
              null));
      pages++;
      assertThat(pages).isLessThan(50);
    } while (cursor != null);

    assertThat(new HashSet<>(seen)).as("no row twice").hasSize(seen.size());
    List<String> expectedOrder =
        original.stream()
            .sorted(
                java.util.Comparator.comparing(Refund::createdAt)
                    .thenComparing(r -> r.id().toString()))
            .map(r -> r.id().toString())
            .toList();
    assertThat(seen.subList(0, original.size())).containsExactlyElementsOf(expectedOrder);
    assertThat(seen.size()).isGreaterThan(original.size());
  }

  @Test
  void filtersSelectTheMatchingRows() {
    Instant march = Instant.parse("2025-03-05T10:00:00Z");
    Refund a = refund("tromso-1", "oslo-1", "acme", 500, "NOK", "FAILED", march, march);
    Refund b =
        refund("tromso-1", "bergen-1", "acme", 700, "NOK", "FAILED", march.plusSeconds(60), null);
    Refund c =
        refund("beta-1", "beta-1", "beta", 900, "EUR", "FAILED", march.plusSeconds(120), null);
    insert(a, b, c);
    String march5 = "from=2025-03-05T00:00:00Z&to=2025-03-06T00:00:00Z";
    assertThat(ids("/v1/audit/refunds?status=FAILED&" + march5))
        .containsExactly(id(a), id(b), id(c));
    assertThat(ids("/v1/audit/refunds?status=FAILED&chainId=acme&" + march5))
        .containsExactly(id(a), id(b));
    assertThat(ids("/v1/audit/refunds?originStoreId=bergen-1&status=FAILED&" + march5))
        .containsExactly(id(b));
    assertThat(ids("/v1/audit/refunds?requestingStoreId=beta-1&" + march5)).containsExactly(id(c));
    assertThat(ids("/v1/audit/refunds?orderId=" + a.orderId())).containsExactly(id(a));
    assertThat(
            ids(
                "/v1/audit/refunds?status=FAILED&from=2025-03-05T10:00:00Z&to=2025-03-05T10:01:00Z"))
        .containsExactly(id(a));

    JsonObject json = get("/v1/audit/refunds?orderId=" + a.orderId(), "application/json").json();
    JsonObject row = json.getJsonArray("refunds").getJsonObject(0);
    assertThat(row.getJsonObject("amount"))
        .isEqualTo(new JsonObject().put("value", 500).put("currency", "NOK"));
    assertThat(row.getString("createdAt")).isEqualTo("2025-03-05T10:00:00.000000Z");
    assertThat(row.getString("vippsIdempotencyKey")).isEqualTo(id(a));
    assertThat(row.getInteger("credentialsVersion")).isEqualTo(3);
    assertThat(row.getString("requestingClientId")).isEqualTo(clientOf.get("tromso-1"));
  }

  @Test
  void csvExportIsParseableAndNeutralisesFormulas() {
    Instant april = Instant.parse("2025-04-01T12:00:00.123456Z");
    Refund tricky =
        new Refund(
            UUID.randomUUID(),
            "bergen-1",
            "oslo-1",
            "acme",
            12345,
            "NOK",
            "FAILED",
            "=HYPERLINK(\"http://x\",\"click\"), then \"more\"\r\nand a new line",
            "-ORD-1",
            april,
            april.plusSeconds(1),
            "@SUM(A1)");
    Refund plus =
        new Refund(
            UUID.randomUUID(),
            "bergen-1",
            "oslo-1",
            "acme",
            5,
            "EUR",
            "FAILED",
            "+47 damaged, box",
            "ORD-PLUS",
            april.plusSeconds(10),
            null,
            null);
    insert(tricky, plus);

    HttpResult csv =
        get("/v1/audit/refunds?from=2025-04-01T00:00:00Z&to=2025-04-02T00:00:00Z", "text/csv");
    assertThat(csv.status()).isEqualTo(200);
    assertThat(csv.header("Content-Type")).startsWith("text/csv");
    assertThat(csv.header("Content-Disposition")).contains("attachment");
    List<List<String>> records = CsvParser.parse(csv.text());
    assertThat(records.get(0)).isEqualTo(RefundLogEntry.CSV_HEADER);
    assertThat(records).hasSize(3);
    Map<String, String> first = row(records, 1);
    assertThat(first.get("refund_id")).isEqualTo(id(tricky));
    assertThat(first.get("reason"))
        .isEqualTo("'=HYPERLINK(\"http://x\",\"click\"), then \"more\"\r\nand a new line");
    assertThat(first.get("order_id")).isEqualTo("'-ORD-1");
    assertThat(first.get("failure_code")).isEqualTo("'@SUM(A1)");
    assertThat(first.get("amount_minor")).isEqualTo("12345");
    assertThat(first.get("amount")).isEqualTo("123.45");
    assertThat(first.get("currency")).isEqualTo("NOK");
    assertThat(first.get("created_at")).isEqualTo("2025-04-01T12:00:00.123456Z");
    assertThat(first.get("completed_at")).isEqualTo("2025-04-01T12:00:01.123456Z");
    assertThat(first.get("credentials_version")).isEqualTo("3");
    Map<String, String> second = row(records, 2);
    assertThat(second.get("reason")).isEqualTo("'+47 damaged, box");
    assertThat(second.get("amount")).isEqualTo("0.05");
    assertThat(second.get("completed_at")).isEmpty();
    for (List<String> record : records) {
      for (String cell : record) {
        assertThat(cell)
            .as("no cell may start a formula")
            .doesNotStartWith("=")
            .doesNotStartWith("+")
            .doesNotStartWith("@");
      }
    }

    HttpResult empty = get("/v1/audit/refunds?orderId=NOTHING", "text/csv");
    assertThat(CsvParser.parse(empty.text())).containsExactly(RefundLogEntry.CSV_HEADER);
  }

  @Test
  void clearingStatementSumsCrossStoreSucceededRefundsPerPairAndCurrencyInTheUtcMonth() {
    Instant jan = Instant.parse("2025-06-15T09:00:00Z");
    insert(
        refund("oslo-1", "bergen-1", "acme", 10_000, "NOK", "SUCCEEDED", jan, jan),
        refund("oslo-1", "bergen-1", "acme", 25_050, "NOK", "SUCCEEDED", jan, jan.plusSeconds(5)),
        refund("oslo-1", "bergen-1", "acme", 1_000, "EUR", "SUCCEEDED", jan, jan),
        refund("bergen-1", "oslo-1", "acme", 7_000, "NOK", "SUCCEEDED", jan, null),
        // last microsecond of June (UTC) counts; the first of July does not
        refund(
            "tromso-1",
            "oslo-1",
            "acme",
            1,
            "NOK",
            "SUCCEEDED",
            jan,
            Instant.parse("2025-06-30T23:59:59.999999Z")),
        refund(
            "tromso-1",
            "oslo-1",
            "acme",
            99,
            "NOK",
            "SUCCEEDED",
            jan,
            Instant.parse("2025-07-01T00:00:00Z")),
        // created in May, completed in June: counts in June
        refund(
            "tromso-1",
            "bergen-1",
            "acme",
            300,
            "NOK",
            "SUCCEEDED",
            Instant.parse("2025-05-31T23:00:00Z"),
            Instant.parse("2025-06-01T00:00:01Z")),
        // same store, not succeeded, other chain: never
        refund("oslo-1", "oslo-1", "acme", 5_000, "NOK", "SUCCEEDED", jan, jan),
        refund("oslo-1", "bergen-1", "acme", 5_000, "NOK", "FAILED", jan, jan),
        refund("oslo-1", "bergen-1", "acme", 5_000, "NOK", "UNKNOWN", jan, null),
        refund("beta-1", "beta-1", "beta", 5_000, "EUR", "SUCCEEDED", jan, jan));

    JsonObject statement =
        get("/v1/audit/clearing?chainId=acme&month=2025-06", "application/json").json();
    assertThat(statement.getString("timeZone")).isEqualTo("UTC");
    assertThat(statement.getString("from")).isEqualTo("2025-06-01T00:00:00.000000Z");
    assertThat(statement.getString("to")).isEqualTo("2025-07-01T00:00:00.000000Z");
    JsonArray lines = statement.getJsonArray("lines");
    assertThat(lines.stream().map(l -> summary((JsonObject) l)).toList())
        .containsExactly(
            "bergen-1>oslo-1 NOK 1 7000 70.00",
            "oslo-1>bergen-1 EUR 1 1000 10.00",
            "oslo-1>bergen-1 NOK 2 35050 350.50",
            "tromso-1>bergen-1 NOK 1 300 3.00",
            "tromso-1>oslo-1 NOK 1 1 0.01");
    assertThat(lines.getJsonObject(0).getString("originStoreName")).isEqualTo("Store oslo-1");
    assertThat(lines.getJsonObject(0).getString("originMsn")).isEqualTo("6001");
    JsonArray totals = statement.getJsonArray("totals");
    assertThat(totals.getJsonObject(0).getString("currency")).isEqualTo("EUR");
    assertThat(totals.getJsonObject(1).getJsonObject("amount").getLong("value")).isEqualTo(42_351);
    assertThat(totals.getJsonObject(1).getLong("refunds")).isEqualTo(5);

    List<List<String>> csv =
        CsvParser.parse(get("/v1/audit/clearing?chainId=acme&month=2025-06", "text/csv").text());
    assertThat(csv.get(0))
        .contains("requesting_store_id", "origin_store_id", "amount_minor", "amount");
    assertThat(csv).hasSize(6);
    assertThat(csv.get(3))
        .containsSubsequence("oslo-1", "bergen-1")
        .contains("NOK", "2", "35050", "350.50");

    JsonObject july =
        get("/v1/audit/clearing?chainId=acme&month=2025-07", "application/json").json();
    assertThat(july.getJsonArray("lines").stream().map(l -> summary((JsonObject) l)).toList())
        .containsExactly("tromso-1>oslo-1 NOK 1 99 0.99");
  }

  private static String summary(JsonObject line) {
    return line.getString("requestingStoreId")
        + ">"
        + line.getString("originStoreId")
        + " "
        + line.getJsonObject("amount").getString("currency")
        + " "
        + line.getLong("refunds")
        + " "
        + line.getJsonObject("amount").getLong("value")
        + " "
        + line.getString("amountDecimal");
  }

  private static Map<String, String> row(List<List<String>> records, int index) {
    Map<String, String> row = new java.util.LinkedHashMap<>();
    for (int i = 0; i < records.get(0).size(); i++) {
      row.put(records.get(0).get(i), records.get(index).get(i));
    }
    return row;
  }

  private List<String> ids(String path) {
    HttpResult result = get(path, "application/json");
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    result
        .json()
        .getJsonArray("refunds")
        .forEach(r -> ids.add(((JsonObject) r).getString("refundId")));
    return ids;
  }

  private static String id(Refund refund) {
    return refund.id().toString();
  }

  private HttpResult get(String path, String accept) {
    return broker.send(HttpMethod.GET, path, auditorToken, null, Map.of("Accept", accept));
  }
}

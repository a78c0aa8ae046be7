package io.refundbroker.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.refundbroker.testing.ContractOperations;
import io.refundbroker.testing.ContractOperations.Op;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The role matrix, generated from {@code openapi.yaml}: every operation × {anonymous, revoked
 * token, store of the same chain, store of another chain, frozen store, admin, auditor} × {own
 * object, a sibling store's, another chain's, one that does not exist}. Every cell is sent and its
 * answer (status and problem code) written to {@code target/role-matrix.md} (RELIABILITY.md's
 * table). Checked: no credential → 401 and a role outside {@code x-roles} → 403 on every operation;
 * for a store caller another chain's object is indistinguishable from a missing one (same status,
 * same code); an auditor changes nothing (its only writes are its own {@code audit.read} events);
 * no answer to anyone carries a store's Vipps secret; every refusal is counted in {@code
 * authorization_refusals_total} and logged without the token.
 *
 * <p>Operations without an object (e.g. {@code GET /v1/me}) are sent once per caller (column
 * "own"). Mutating cells use bodies that change nothing another cell reads (a rename to the same
 * name, keys Vipps refuses, a fresh client to revoke).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RoleMatrixIT {
  private static final List<String> OBJECTS = List.of("own", "sibling", "other chain", "missing");

  private RefundWorld world;
  private final Map<String, Shop> shops = new LinkedHashMap<>();
  private final Map<String, String> refundOf = new LinkedHashMap<>();
  private final Map<String, String> callerTokens = new LinkedHashMap<>();
  private final Map<String, String> subjectOf = new LinkedHashMap<>();
  private final Map<String, String[]> relatives = new LinkedHashMap<>();
  private final List<String> secrets = new ArrayList<>();
  private final AtomicInteger serial = new AtomicInteger();

  /** A client of each store that only callers who may not revoke are sent to revoke. */
  private final Map<String, String> standing = new LinkedHashMap<>();

  private String revokedToken;

  private record Request(
      HttpMethod method, String path, Object body, Map<String, String> headers) {}

  private record Cell(String operationId, String caller, String object, int status, String code) {
    String text() {
      return code == null ? String.valueOf(status) : status + " " + code;
    }
  }

  @BeforeAll
  void start() {
    world =
        RefundWorld.start(
            builder ->
                builder
                    .env("ORDER_LOOKUPS_PER_MINUTE", "100000")
                    .env("AUDIT_CHECKPOINT_EVERY", "10000000")
                    .env("AUDIT_CHECKPOINT_INTERVAL", "1d")
                    // generous: the campaign runs beside the rest of the suite on a busy machine
                    .env("VIPPS_READ_TIMEOUT", "10s")
                    .env("VIPPS_CONNECT_TIMEOUT", "5s"));
    shop("bergen-1", "acme", "100002");
    shop("oslo-1", "acme", "100001");
    shop("frozen-1", "acme", "100004");
    shop("stock-1", "globex", "200001");
    shop("stock-2", "globex", "200002");
    for (Shop shop : shops.values()) {
      world.sale(shop, order(shop.storeId()), 100_000);
      HttpResult refund =
          world.refund(
              shop, "matrix-" + shop.storeId(), RefundWorld.refundBody(order(shop.storeId()), 100));
      assertThat(refund.status()).as(refund.toString()).isIn(201, 202);
      refundOf.put(shop.storeId(), refund.json().getString("refundId"));
    }
    for (String storeId : shops.keySet()) {
      standing.put(storeId, freshClient(storeId));
    }
    standing.put("no-such-store", "cl_nosuchclient0");
    HttpResult frozen =
        world.broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/frozen-1",
            world.broker.adminToken(),
            new JsonObject().put("frozen", true));
    assertThat(frozen.status()).isEqualTo(200);
    JsonObject revoked =
        world
            .broker
            .post(
                "/v1/admin/clients",
                world.broker.adminToken(),
                new JsonObject()
                    .put("name", "revoked")
                    .put("role", "STORE")
                    .put("storeId", "bergen-1"))
            .json();
    assertThat(
            world
                .broker
                .send(
                    HttpMethod.DELETE,
                    "/v1/admin/clients/" + revoked.getString("clientId"),
                    world.broker.adminToken(),
                    null)
                .status())
        .isEqualTo(204);
    revokedToken = revoked.getString("token");

    callerTokens.put("anonymous", null);
    callerTokens.put("revoked token", revokedToken);
    callerTokens.put("store, same chain", shops.get("bergen-1").token());
    callerTokens.put("store, other chain", shops.get("stock-1").token());
    callerTokens.put("frozen store", shops.get("frozen-1").token());
    callerTokens.put("admin", world.broker.adminToken());
    callerTokens.put("auditor", world.broker.issueToken("AUDITOR", null));
    // whose objects are "own" for each caller (chain-wide callers: bergen-1's)
    subjectOf.put("anonymous", "bergen-1");
    subjectOf.put("revoked token", "bergen-1");
    subjectOf.put("store, same chain", "bergen-1");
    subjectOf.put("store, other chain", "stock-1");
    subjectOf.put("frozen store", "frozen-1");
    subjectOf.put("admin", "bergen-1");
    subjectOf.put("auditor", "bergen-1");
    // own, sibling, other chain
    relatives.put("bergen-1", new String[] {"bergen-1", "oslo-1", "stock-1"});
    relatives.put("stock-1", new String[] {"stock-1", "stock-2", "bergen-1"});
    relatives.put("frozen-1", new String[] {"frozen-1", "oslo-1", "stock-1"});
  }

  private void shop(String storeId, String chainId, String msn) {
    Shop shop = world.shop(storeId, chainId, msn);
    shops.put(storeId, shop);
    secrets.add(shop.keys().clientSecret().reveal());
    secrets.add(shop.keys().subscriptionKey().reveal());
  }

  private String order(String storeId) {
    return shops.get(storeId).msn() + "-0001";
  }

  @AfterAll
  void stop() {
    if (world != null) {
      world.close();
    }
  }

  @Test
  void everyCellAsExpectedAndWrittenDown() throws Exception {
    List<Op> operations = ContractOperations.all();
    assertThat(operations).hasSizeGreaterThanOrEqualTo(31);
    List<Cell> cells = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    double refusedBefore = refusals();
    long auditorWrites;
    String logs;
    try (LogCapture capture = LogCapture.atTrace()) {
      Map<String, Long> beforeAuditor = rowCounts();
      long auditEventsBefore = count("audit_entries");
      long othersBefore = notAuditorsReads();
      for (Op op : operations) {
        cells.addAll(row(op, "auditor", failures));
      }
      Map<String, Long> afterAuditor = rowCounts();
      assertThat(afterAuditor).as("an auditor changes nothing").isEqualTo(beforeAuditor);
      auditorWrites = count("audit_entries") - auditEventsBefore;
      assertThat(notAuditorsReads())
          .as("the auditor's only writes are the audit trail's records of its reads")
          .isEqualTo(othersBefore);
      assertThat(auditorWrites).as("every auditor read is recorded").isPositive();
      for (String caller : callerTokens.keySet()) {
        if (caller.equals("auditor")) {
          continue;
        }
        for (Op op : operations) {
          cells.addAll(row(op, caller, failures));
        }
      }
      logs = capture.text();
    }

    // no credential: 401; a role outside x-roles: 403 FORBIDDEN; public operations: anyone
    for (Cell cell : cells) {
      Op op =
          operations.stream()
              .filter(o -> o.operationId().equals(cell.operationId()))
              .findFirst()
              .orElseThrow();
      String role = roleOf(cell.caller());
      if (op.roles().isEmpty()) {
        if (cell.status() >= 400
            && !(cell.operationId().equals("healthReady") && cell.status() == 503)) {
          failures.add(cell + ": a public operation refused");
        }
      } else if (role == null) {
        if (cell.status() != 401 || !"UNAUTHORIZED".equals(cell.code())) {
          failures.add(cell + ": expected 401 UNAUTHORIZED");
        }
      } else if (!op.roles().contains(role)) {
        if (cell.status() != 403 || !"FORBIDDEN".equals(cell.code())) {
          failures.add(cell + ": expected 403 FORBIDDEN");
        }
      } else if (cell.status() == 401 || cell.status() >= 500 || "FORBIDDEN".equals(cell.code())) {
        failures.add(cell + ": an allowed role was refused or failed");
      }
    }
    // another chain's object is indistinguishable from a missing one, for store callers
    Map<String, Map<String, Cell>> byRow = new TreeMap<>();
    for (Cell cell : cells) {
      byRow
          .computeIfAbsent(cell.operationId() + " | " + cell.caller(), k -> new LinkedHashMap<>())
          .put(cell.object(), cell);
    }
    for (Map.Entry<String, Map<String, Cell>> row : byRow.entrySet()) {
      Cell other = row.getValue().get("other chain");
      Cell missing = row.getValue().get("missing");
      if (other != null
          && missing != null
          && roleOf(other.caller()) != null
          && roleOf(other.caller()).equals("STORE")
          && !other.text().equals(missing.text())) {
        failures.add(
            row.getKey()
                + ": another chain's object answers "
                + other.text()
                + ", a missing one "
                + missing.text());
      }
    }
    // refusals counted (the counter) and logged without the token
    long refused =
        cells.stream().filter(c -> c.status() == 401 || "FORBIDDEN".equals(c.code())).count();
    assertThat(refusals() - refusedBefore)
        .as("authorization_refusals_total")
        .isEqualTo((double) refused);
    assertThat(logs).contains("authorization refused");
    for (String token : callerTokens.values()) {
      if (token != null) {
        assertThat(logs).as("a token in the logs").doesNotContain(token);
      }
    }
    String table = table(operations, byRow);
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target", "role-matrix.md"), table);
    System.out.println(table);
    System.out.printf(
        "role matrix: %d cells, %d refusals counted, the auditor's %d audit events record its reads%n",
        cells.size(), refused, auditorWrites);
    assertThat(failures).isEmpty();
  }

  private static String roleOf(String caller) {
    return switch (caller) {
      case "anonymous", "revoked token" -> null;
      case "admin" -> "ADMIN";
      case "auditor" -> "AUDITOR";
      default -> "STORE";
    };
  }

  private double refusals() {
    return world.broker.registry().find("authorization.refusals").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  /** Audit events other than an auditor's record of its own reads ({@code audit.*}). */
  private long notAuditorsReads() {
    return world
        .broker
        .database()
        .queryLong(
            "SELECT count(*) FROM audit_entries WHERE NOT (actor_role = 'AUDITOR'"
                + " AND action LIKE 'audit.%' AND action NOT LIKE 'audit.forgery%')");
  }

  private long count(String table) {
    return world.broker.database().queryLong("SELECT count(*) FROM " + table);
  }

  private Map<String, Long> rowCounts() {
    Map<String, Long> counts = new TreeMap<>();
    for (String table :
        List.of(
            "chains",
            "stores",
            "api_clients",
            "orders",
            "refunds",
            "idempotency_records",
            "credential_versions",
            "audit_checkpoints")) {
      counts.put(table, count(table));
    }
    return counts;
  }

  /** The cells of one operation for one caller. */
  private List<Cell> row(Op op, String caller, List<String> failures) {
    List<Cell> row = new ArrayList<>();
    String[] stores = relatives.getOrDefault(subjectOf.get(caller), relatives.get("bergen-1"));
    boolean hasObject = hasObject(op.operationId());
    for (int i = 0; i < (hasObject ? OBJECTS.size() : 1); i++) {
      String object = OBJECTS.get(i);
      String store = i < 3 ? stores[i] : null;
      Request request = request(op, store, caller);
      HttpResult result =
          world.broker.send(
              request.method(),
              request.path(),
              callerTokens.get(caller),
              request.body(),
              request.headers());
      String code = result.status() >= 400 ? result.json().getString("code") : null;
      for (String secret : secrets) {
        if (result.text().contains(secret)) {
          failures.add(
              op.operationId()
                  + " "
                  + caller
                  + " "
                  + object
                  + ": the answer carries a store's Vipps secret");
        }
      }
      row.add(new Cell(op.operationId(), caller, object, result.status(), code));
    }
    return row;
  }

  private static boolean hasObject(String operationId) {
    return !Set.of(
            "getCaller",
            "listClients",
            "getClientCa",
            "listAuditEvents",
            "listAuditCheckpoints",
            "getAuditPublicKey",
            "listAuditPublicKeys",
            "verifyAuditTrail",
            "healthLive",
            "healthReady",
            "metrics",
            "openapi")
        .contains(operationId);
  }

  /**
   * The request of {@code op} about {@code store}'s object (null: an object that does not exist).
   */
  private Request request(Op op, String store, String caller) {
    int n = serial.incrementAndGet();
    String storeId = store == null ? "no-such-store" : store;
    String chainId = store == null ? "no-such-chain" : shops.get(store).chainId();
    String orderId = store == null ? "999999-0404" : order(store);
    String refundId = store == null ? UUID.randomUUID().toString() : refundOf.get(store);
    Map<String, String> none = Map.of();
    String month = YearMonth.now(ZoneOffset.UTC).toString();
    return switch (op.operationId()) {
      case "createStore" ->
          new Request(
              HttpMethod.POST,
              "/v1/admin/stores",
              new JsonObject()
                  .put("storeId", "m-" + n)
                  .put("name", "Matrix " + n)
                  .put("msn", String.valueOf(300_000 + n))
                  .put("chainId", chainId),
              none);
      case "listStores" ->
          new Request(HttpMethod.GET, "/v1/admin/stores?chainId=" + chainId, null, none);
      case "getStore" -> new Request(HttpMethod.GET, "/v1/admin/stores/" + storeId, null, none);
      case "updateStore" ->
          new Request(
              HttpMethod.PATCH,
              "/v1/admin/stores/" + storeId,
              new JsonObject().put("name", "Store " + storeId),
              none);
      case "rotateCredentials" ->
          new Request(
              HttpMethod.PUT,
              "/v1/admin/stores/" + storeId + "/credentials?validate=true",
              new JsonObject()
                  .put("clientId", "matrix-client")
                  .put("clientSecret", "matrix-wrong-secret")
                  .put("subscriptionKey", "matrix-wrong-key"),
              none);
      case "listCredentialVersions" ->
          new Request(HttpMethod.GET, "/v1/admin/stores/" + storeId + "/credentials", null, none);
      case "rollbackCredentials" ->
          new Request(
              HttpMethod.POST,
              "/v1/admin/stores/" + storeId + "/credentials/rollback",
              new JsonObject().put("version", 999),
              none);
      case "listCredentialAges" ->
          new Request(HttpMethod.GET, "/v1/admin/credentials?chainId=" + chainId, null, none);
      case "createClient" ->
          new Request(
              HttpMethod.POST,
              "/v1/admin/clients",
              new JsonObject().put("name", "matrix").put("role", "STORE").put("storeId", storeId),
              none);
      case "revokeClient" ->
          new Request(
              HttpMethod.DELETE,
              "/v1/admin/clients/"
                  + (caller.equals("admin") ? freshClient(store) : standing.get(storeId)),
              null,
              none);
      case "registerOrder" ->
          new Request(
              HttpMethod.POST,
              "/v1/orders",
              new JsonObject()
                  .put("orderId", (store == null ? "777777" : shops.get(store).msn()) + "-R" + n)
                  .put("amount", RefundWorld.nok(1000)),
              none);
      case "getOrder" -> new Request(HttpMethod.GET, "/v1/orders/" + orderId, null, none);
      case "importOrders" ->
          new Request(
              HttpMethod.POST,
              "/v1/admin/orders/import",
              Buffer.buffer(
                  "storeId,orderId,amount,currency,capturedAt\n"
                      + storeId
                      + ",IMP-"
                      + n
                      + ",1000,NOK,\n"),
              Map.of("Content-Type", "text/plain"));
      case "requestRefund" ->
          new Request(
              HttpMethod.POST,
              "/v1/refunds",
              RefundWorld.refundBody(orderId, 1),
              Map.of("Idempotency-Key", "matrix-" + n));
      case "listRefunds" ->
          new Request(HttpMethod.GET, "/v1/refunds?orderId=" + orderId, null, none);
      case "listAuditRefunds" ->
          new Request(HttpMethod.GET, "/v1/audit/refunds?chainId=" + chainId, null, none);
      case "getRefund" -> new Request(HttpMethod.GET, "/v1/refunds/" + refundId, null, none);
      case "acknowledgeAuditForgery" ->
          new Request(
              HttpMethod.POST,
              "/v1/admin/audit/forgeries",
              new JsonObject().put("seq", store == null ? 999_999 : 1).put("reason", "matrix"),
              none);
      case "getClearingStatement" ->
          new Request(
              HttpMethod.GET,
              "/v1/audit/clearing?chainId=" + chainId + "&month=" + month,
              null,
              none);
      default -> new Request(op.method(), op.path(), null, none);
    };
  }

  /** A client of {@code store} made for one revocation cell (or one that never existed). */
  private String freshClient(String store) {
    if (store == null) {
      return "cl_nosuchclient" + serial.incrementAndGet();
    }
    return world
        .broker
        .post(
            "/v1/admin/clients",
            world.broker.adminToken(),
            new JsonObject().put("name", "to-revoke").put("role", "STORE").put("storeId", store))
        .json()
        .getString("clientId");
  }

  private String table(List<Op> operations, Map<String, Map<String, Cell>> byRow) {
    StringBuilder out = new StringBuilder();
    out.append(
        "| operation | x-roles | caller | own | sibling store's | other chain's | missing |\n");
    out.append("|---|---|---|---|---|---|---|\n");
    for (Op op : operations) {
      for (String caller : callerTokens.keySet()) {
        Map<String, Cell> row = byRow.get(op.operationId() + " | " + caller);
        out.append("| ")
            .append(op.operationId())
            .append(" | ")
            .append(op.roles().isEmpty() ? "public" : String.join(",", op.roles()))
            .append(" | ")
            .append(caller);
        for (String object : OBJECTS) {
          Cell cell = row.get(object);
          out.append(" | ").append(cell == null ? "—" : cell.text());
        }
        out.append(" |\n");
      }
    }
    return out.toString();
  }
}

package io.refundbroker.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.campaign.RequestGenerator.Case;
import io.refundbroker.campaign.RequestGenerator.Kind;
import io.refundbroker.campaign.RequestGenerator.Operation;
import io.refundbroker.campaign.WireClient.Answer;
import io.refundbroker.testing.ContractWitness;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.refundbroker.testing.ResponseContract;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Bad input, derived from {@code openapi.yaml}: for every operation {@value #DEFAULT_CASES}
 * requests (system property {@code fuzz.cases}; seed {@code fuzz.seed}) from {@link
 * RequestGenerator}, sent to one in-process broker over kept-alive connections by {@value
 * #CONNECTIONS} threads. Every answer: no 5xx, true to the contract (the suite's {@link
 * ContractWitness}, read per operation here); every invalid request refused with a 4xx problem
 * (naming the member or parameter where the generator knows it), and — checked per operation over
 * its batch of invalid requests — nothing written: the row count of every table and the head of the
 * audit chain unchanged. Prints the counts per operation (RELIABILITY.md's table).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputFuzzIT {
  static final int DEFAULT_CASES = 1000;
  static final long DEFAULT_SEED = 20261130L;
  private static final int CONNECTIONS = 8;
  private static final List<String> TABLES =
      List.of(
          "chains",
          "stores",
          "api_clients",
          "orders",
          "refunds",
          "idempotency_records",
          "audit_entries",
          "audit_links",
          "credential_versions",
          "audit_checkpoints",
          "broker_secrets");

  private final int casesPerOperation = Integer.getInteger("fuzz.cases", DEFAULT_CASES);
  private final long seed = Long.getLong("fuzz.seed", DEFAULT_SEED);
  private RefundWorld world;
  private RequestGenerator generator;
  private ExecutorService senders;
  private Connection jdbc;

  @BeforeAll
  void start() {
    assertThat(ContractWitness.installed()).as("the suite's contract check records").isTrue();
    world =
        RefundWorld.start(
            builder ->
                builder
                    .env("AUDIT_CHECKPOINT_EVERY", "10000000")
                    .env("AUDIT_CHECKPOINT_INTERVAL", "1d")
                    .env("ORDER_LOOKUPS_PER_MINUTE", "100000")
                    // generous: the campaign runs beside the rest of the suite on a busy machine
                    .env("VIPPS_READ_TIMEOUT", "10s")
                    .env("VIPPS_CONNECT_TIMEOUT", "5s"));
    Shop oslo = world.shop("oslo-1", "acme", "100001");
    Shop bergen = world.shop("bergen-1", "acme", "100002");
    Shop stock = world.shop("stock-1", "globex", "200001");
    world.shop("fz-scratch", "acme", "100003");
    world.sale(oslo, "100001-0001", 100_000);
    world.sale(oslo, "100001-0002", 5_000);
    world.sale(stock, "200001-0001", 100_000);
    HttpResult refund =
        world.refund(bergen, "seed-refund", RefundWorld.refundBody("100001-0001", 500));
    assertThat(refund.status()).as(refund.toString()).isIn(201, 202);
    String refundId = refund.json().getString("refundId");
    String auditor = world.broker.issueToken("AUDITOR", null);
    HttpResult revokable =
        world.broker.post(
            "/v1/admin/clients",
            world.broker.adminToken(),
            new JsonObject().put("name", "revoked").put("role", "STORE").put("storeId", "oslo-1"));
    String revokedId = revokable.json().getString("clientId");
    assertThat(
            world
                .broker
                .send(
                    HttpMethod.DELETE,
                    "/v1/admin/clients/" + revokedId,
                    world.broker.adminToken(),
                    null)
                .status())
        .isEqualTo(204);
    List<String> scratchClients = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      scratchClients.add(
          world
              .broker
              .post(
                  "/v1/admin/clients",
                  world.broker.adminToken(),
                  new JsonObject().put("name", "scratch").put("role", "AUDITOR"))
              .json()
              .getString("clientId"));
    }
    Map<String, List<String>> known = new LinkedHashMap<>();
    known.put("storeId", List.of("oslo-1", "bergen-1", "stock-1", "fz-scratch"));
    known.put("originStoreId", List.of("oslo-1", "stock-1"));
    known.put("requestingStoreId", List.of("bergen-1", "oslo-1"));
    known.put("chainId", List.of("acme", "globex"));
    known.put("orderId", List.of("100001-0001", "100001-0002", "200001-0001"));
    known.put("refundId", List.of(refundId));
    known.put("clientId", List.of(revokedId));
    Map<String, List<String>> pathValues = new LinkedHashMap<>();
    for (String op : List.of("updateStore", "rotateCredentials", "rollbackCredentials")) {
      pathValues.put(op + ".storeId", List.of("fz-scratch"));
    }
    pathValues.put("revokeClient.clientId", scratchClients);
    Map<String, String> tokens = new LinkedHashMap<>();
    tokens.put("ADMIN", world.broker.adminToken());
    tokens.put("AUDITOR", auditor);
    tokens.put("STORE", oslo.token());
    String revokedToken = revokable.json().getString("token");
    generator =
        new RequestGenerator(
            ResponseContract.broker().document(),
            new RequestGenerator.Fixtures(
                tokens,
                revokedToken,
                known,
                pathValues,
                world.broker.config().http().maxBodyBytes()));
    senders = Executors.newFixedThreadPool(CONNECTIONS);
    try {
      jdbc = world.broker.database().appConnection();
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  @AfterAll
  void stop() {
    if (senders != null) {
      senders.shutdownNow();
    }
    if (jdbc != null) {
      try {
        jdbc.close();
      } catch (SQLException e) {
        throw new AssertionError(e);
      }
    }
    if (world != null) {
      world.close();
    }
  }

  /** The figures of one operation. */
  private static final class Tally {
    final Map<Kind, Integer> byKind = new EnumMap<>(Kind.class);
    final Map<Integer, Integer> byStatus = new TreeMap<>();
    int responses;
    int violations;
    long sendMillis;
    long checkMillis;

    void add(Kind kind, int status) {
      byKind.merge(kind, 1, Integer::sum);
      byStatus.merge(status, 1, Integer::sum);
      responses++;
    }
  }

  @Test
  void everyOperationRefusesBadInputWithAProblemAndWritesNothing() throws Exception {
    List<Operation> operations = generator.operations();
    assertThat(operations).hasSizeGreaterThanOrEqualTo(31);
    Map<String, Tally> tallies = new LinkedHashMap<>();
    List<String> failures = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger connections = new AtomicInteger();
    long started = System.nanoTime();
    for (Operation op : operations) {
      Random random = new Random(seed ^ op.operationId().hashCode());
      List<Case> cases = generator.cases(op, casesPerOperation, random);
      Tally tally = new Tally();
      tallies.put(op.operationId(), tally);
      List<Case> invalid = cases.stream().filter(c -> c.kind() == Kind.INVALID).toList();
      List<Case> rest = cases.stream().filter(c -> c.kind() != Kind.INVALID).toList();

      long opStarted = System.nanoTime();
      Map<String, Long> before = snapshot();
      List<Answer> invalidAnswers = sendAll(invalid, connections);
      Map<String, Long> after = snapshot();
      for (int i = 0; i < invalid.size(); i++) {
        Case c = invalid.get(i);
        Answer answer = invalidAnswers.get(i);
        tally.add(c.kind(), answer.status());
        String problem = refusalProblem(c, answer);
        if (problem != null) {
          failures.add(op.operationId() + " [" + c.mutation() + "] " + problem);
        }
      }
      if (!before.equals(after)) {
        failures.add(
            op.operationId()
                + ": invalid requests wrote: "
                + difference(before, after)
                + " (first writer: "
                + firstWriter(invalid)
                + ")");
      }

      List<Answer> restAnswers = sendAll(rest, connections);
      for (int i = 0; i < rest.size(); i++) {
        Case c = rest.get(i);
        Answer answer = restAnswers.get(i);
        tally.add(c.kind(), answer.status());
        if ((answer.status() >= 500 || answer.status() == 0) && !declaredUnavailable(op, answer)) {
          failures.add(
              op.operationId()
                  + " ["
                  + c.mutation()
                  + "] "
                  + answer.status()
                  + " "
                  + answer.text());
        }
      }
      long sent = System.nanoTime();
      tally.sendMillis = (sent - opStarted) / 1_000_000;
      List<String> departures = ContractWitness.global().check();
      tally.checkMillis = (System.nanoTime() - sent) / 1_000_000;
      tally.violations = departures.size();
      departures.forEach(d -> failures.add(op.operationId() + " contract: " + d));
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    String table = table(tallies, seconds, connections.get());
    System.out.println(table);
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target", "fuzz-table.md"), table);
    Files.write(Path.of("target", "fuzz-failures.txt"), failures);
    assertThat(failures)
        .as(
            "seed "
                + seed
                + ", "
                + casesPerOperation
                + " per operation (all in target/fuzz-failures.txt)")
        .hasSizeLessThan(1)
        .isEmpty();
    for (Map.Entry<String, Tally> entry : tallies.entrySet()) {
      assertThat(entry.getValue().responses).as(entry.getKey()).isEqualTo(casesPerOperation);
    }
  }

  /**
   * A 503 the contract declares: not ready ({@code healthReady}), or every upload slot taken
   * ({@code importOrders}, {@code TOO_MANY_UPLOADS}: 8 senders, 2 slots).
   */
  private static boolean declaredUnavailable(Operation op, Answer answer) {
    return answer.status() == 503
        && (op.operationId().equals("healthReady")
            || op.operationId().equals("importOrders")
                && answer.text().contains("\"TOO_MANY_UPLOADS\""));
  }

  /** Why an answer to an invalid request is not a refusal, or null when it is. */
  private static String refusalProblem(Case c, Answer answer) {
    int status = answer.status();
    if (status < 400 || status >= 500) {
      return "answered " + status + " " + abbreviate(answer.text());
    }
    String type = answer.header("Content-Type");
    if (type == null || !type.startsWith("application/problem+json")) {
      return "answered " + status + " without a problem: " + type;
    }
    JsonObject problem = new JsonObject(answer.text());
    String detail = problem.getString("detail", "");
    if (detail.isBlank() || problem.getString("code") == null) {
      return "a problem without code or detail: " + answer.text();
    }
    if (c.names() != null
        && status == 400
        && !detail.toLowerCase().contains(c.names().toLowerCase())
        && !problem.encode().toLowerCase().contains(c.names().toLowerCase())) {
      return "the problem does not name '" + c.names() + "': " + answer.text();
    }
    return null;
  }

  private List<Answer> sendAll(List<Case> cases, AtomicInteger connections) throws Exception {
    Answer[] answers = new Answer[cases.size()];
    AtomicInteger next = new AtomicInteger();
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < CONNECTIONS; w++) {
      workers.add(
          senders.submit(
              () -> {
                try (WireClient client = new WireClient(world.broker.port())) {
                  for (int i = next.getAndIncrement();
                      i < cases.size();
                      i = next.getAndIncrement()) {
                    answers[i] = client.send(cases.get(i));
                  }
                  connections.addAndGet(client.connections());
                }
                return null;
              }));
    }
    for (Future<?> worker : workers) {
      try {
        worker.get(5, TimeUnit.MINUTES);
      } catch (ExecutionException e) {
        throw new AssertionError(e.getCause().getMessage(), e.getCause());
      } catch (TimeoutException e) {
        throw new AssertionError("a sender did not finish within 5 minutes", e);
      }
    }
    return List.of(answers);
  }

  /** Row counts of every table and the head of the audit chain, once every event is linked. */
  private Map<String, Long> snapshot() {
    StringBuilder sql = new StringBuilder("SELECT ");
    for (String table : TABLES) {
      sql.append("(SELECT count(*) FROM ").append(table).append(") AS ").append(table).append(", ");
    }
    sql.append("(SELECT coalesce(max(seq), 0) FROM audit_links) AS head_seq, ")
        .append(
            "(SELECT coalesce(('x' || substr(hash, 1, 15))::bit(60)::bigint, 0) FROM audit_links")
        .append(" ORDER BY seq DESC LIMIT 1) AS head_hash");
    AtomicReference<Map<String, Long>> last = new AtomicReference<>();
    Poll.until(
        "every audit event is linked",
        Duration.ofSeconds(30),
        () -> {
          last.set(counts(sql.toString()));
          return last.get().get("audit_entries").equals(last.get().get("audit_links"));
        });
    return last.get();
  }

  private Map<String, Long> counts(String sql) {
    Map<String, Long> counts = new TreeMap<>();
    try (Statement statement = jdbc.createStatement();
        ResultSet row = statement.executeQuery(sql)) {
      row.next();
      for (String table : TABLES) {
        counts.put(table, row.getLong(table));
      }
      counts.put("audit head seq", row.getLong("head_seq"));
      counts.put("audit head hash", row.getLong("head_hash"));
    } catch (SQLException e) {
      throw new AssertionError("could not read the row counts", e);
    }
    return counts;
  }

  /** Sends the cases one by one and names the first after which something was written. */
  private String firstWriter(List<Case> cases) {
    try (WireClient client = new WireClient(world.broker.port())) {
      for (Case c : cases.subList(0, Math.min(cases.size(), 300))) {
        Map<String, Long> before = snapshot();
        Answer answer = client.send(c);
        if (!before.equals(snapshot())) {
          return c.mutation()
              + " → "
              + answer.status()
              + " "
              + c.method()
              + " "
              + abbreviate(c.target());
        }
      }
    }
    return "none of the first 300 when sent one by one";
  }

  private static String difference(Map<String, Long> before, Map<String, Long> after) {
    StringBuilder out = new StringBuilder();
    before.forEach(
        (key, value) -> {
          if (!value.equals(after.get(key))) {
            out.append(key)
                .append(' ')
                .append(value)
                .append("→")
                .append(after.get(key))
                .append("; ");
          }
        });
    return out.toString();
  }

  private static String abbreviate(String text) {
    return text.length() > 300 ? text.substring(0, 300) + "…" : text;
  }

  private String table(Map<String, Tally> tallies, double seconds, int connections) {
    StringBuilder out = new StringBuilder();
    int total = tallies.values().stream().mapToInt(t -> t.responses).sum();
    out.append(
        String.format(
            "fuzz: seed %d, %d requests per operation, %d operations, %d requests in %.1f s over %d"
                + " connections (%d threads)%n",
            seed, casesPerOperation, tallies.size(), total, seconds, connections, CONNECTIONS));
    out.append(
        "| operation | requests | valid | boundary | odd | invalid | 5xx | contract violations | statuses | ms (send+check) |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
    tallies.forEach(
        (op, t) ->
            out.append(
                String.format(
                    "| %s | %d | %d | %d | %d | %d | %d | %d | %s | %d+%d |%n",
                    op,
                    t.responses,
                    t.byKind.getOrDefault(Kind.VALID, 0),
                    t.byKind.getOrDefault(Kind.BOUNDARY, 0),
                    t.byKind.getOrDefault(Kind.ODD, 0),
                    t.byKind.getOrDefault(Kind.INVALID, 0),
                    t.byStatus.entrySet().stream()
                        .filter(e -> e.getKey() >= 500)
                        .mapToInt(Map.Entry::getValue)
                        .sum(),
                    t.violations,
                    t.byStatus,
                    t.sendMillis,
                    t.checkMillis)));
    return out.toString();
  }

  static {
    // the table goes to target/; make sure the working directory is the module
    try {
      Files.createDirectories(Path.of("target"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

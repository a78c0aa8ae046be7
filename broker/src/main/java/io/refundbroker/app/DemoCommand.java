package io.refundbroker.app;

import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.ConfigException;
import io.refundbroker.config.Secret;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.SandboxPartner;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.sandbox.SandboxStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * {@code demo}: a cross-store refund end to end, on this machine only. Starts an embedded
 * PostgreSQL (under {@code <BROKER_DATA_DIR>/demo}, reset at every demo start), the local
 * credential backend and the Vipps sandbox; seeds a chain with two stores, each with its own MSN
 * and keys; takes a payment in Store A; has Store B refund part of it through the broker's API with
 * Store A's keys (option B), again after switching Store A to partner keys (option A), and a
 * payment of a shop that shares one sales unit with another (option C) — printing which keys and
 * MSN each Vipps call used; prints curl lines to try more; then keeps serving until Ctrl-C.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Show a cross-store refund end to end (embedded PostgreSQL, local credentials, the Vipps"
            + " sandbox), then keep serving.")
public final class DemoCommand implements Callable<Integer> {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String CHAIN = "demo-chain";
  private static final String ORDER_ID = "123456-order-1001";

  @Override
  public Integer call() {
    return run(System.getenv(), System.out, System.err);
  }

  static int run(Map<String, String> environment, PrintStream out, PrintStream err) {
    Running demo;
    AtomicReference<Launcher> started = new AtomicReference<>();
    Termination.onHangup(Termination.reloadTlsOf(started));
    try {
      demo = start(environment, out);
      started.set(demo.launcher());
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return ServeCommand.EXIT_CONFIG;
    } catch (Exception e) {
      LoggerFactory.getLogger(DemoCommand.class).error("demo failed", e);
      err.println("demo failed: " + ServeCommand.rootMessage(e));
      return ServeCommand.EXIT_STARTUP;
    }
    Termination.awaitThen(demo::close);
    return 0;
  }

  /** A running demo: the broker and the sandbox it talks to. */
  record Running(Launcher launcher, EmbeddedSandbox sandbox) implements AutoCloseable {
    @Override
    public void close() {
      launcher.close();
      sandbox.close();
    }
  }

  /**
   * Starts everything and plays the scripted refund.
   *
   * @throws ConfigException when the environment is invalid
   * @throws Exception when a part fails to start or a step fails (what started is stopped)
   */
  static Running start(Map<String, String> environment, PrintStream out) throws Exception {
    if (!environment.containsKey("BROKER_ACCESS_LOG_LEVEL")) {
      // Before any logger exists: keep one-line-per-request logs out of the demo's narrative.
      System.setProperty("BROKER_ACCESS_LOG_LEVEL", "WARN");
    }
    Map<String, String> env = new HashMap<>(environment);
    Path demoDir = Path.of(env.getOrDefault("BROKER_DATA_DIR", "data")).resolve("demo");
    env.put("BROKER_DATA_DIR", demoDir.toString());
    env.put("CREDENTIALS_BACKEND", "local");
    // The demo database is new, so the broker generates the first admin token (into a 0600 file).
    env.remove("BROKER_ADMIN_TOKEN");
    env.remove("DATABASE_URL");
    env.remove("DATABASE_MIGRATION_URL");
    env.remove("VAULT_ADDR");
    BrokerConfig config = BrokerConfig.fromEnvironment(env);
    out.println("refund-broker demo: data under " + demoDir.toAbsolutePath() + " (reset now)");
    deleteRecursively(demoDir);
    EmbeddedSandbox sandbox = EmbeddedSandbox.start(config);
    Launcher launcher = null;
    try {
      launcher = Launcher.start(BrokerConfig.fromEnvironment(sandbox.environment(env)));
      BrokerApp app = launcher.app();
      new Script(
              out,
              "http://127.0.0.1:" + app.httpPort(),
              app.generatedAdminToken().orElseThrow(),
              app.generatedAdminTokenFile().orElseThrow(),
              sandbox)
          .run();
      return new Running(launcher, sandbox);
    } catch (Exception | Error e) {
      if (launcher != null) {
        launcher.close();
      }
      sandbox.close();
      throw e;
    }
  }

  /** The scripted walk through, against the running broker's real HTTP API. */
  private static final class Script {
    private final PrintStream out;
    private final String base;
    private final String adminToken;
    private final Path adminTokenFile;
    private final EmbeddedSandbox sandbox;
    private final HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private int step;

    Script(
        PrintStream out,
        String base,
        String adminToken,
        Path adminTokenFile,
        EmbeddedSandbox sandbox) {
      this.out = out;
      this.base = base;
      this.adminToken = adminToken;
      this.adminTokenFile = adminTokenFile;
      this.sandbox = sandbox;
    }

    void run() {
      heading("Two stores of one chain, each its own Vipps sales unit with its own keys");
      Keys osloKeys = Keys.random("123456");
      Keys bergenKeys = Keys.random("654321");
      sandbox.sandbox().registerStore(osloKeys.sandboxStore());
      sandbox.sandbox().registerStore(bergenKeys.sandboxStore());
      String osloToken = enroll("oslo-sentrum", "Oslo Sentrum", osloKeys, "123456-");
      String bergenToken = enroll("bergen-bryggen", "Bergen Bryggen", bergenKeys, null);

      heading("A customer pays 499.00 NOK with Vipps in Store A (Oslo Sentrum, MSN 123456)");
      sandbox
          .sandbox()
          .seedPayment(
              SandboxPayment.captured(
                  "123456", ORDER_ID, VippsApi.EPAYMENT, new Money(49900, "NOK"), Instant.now()));
      JsonObject order =
          call(
              "POST",
              "/v1/orders",
              osloToken,
              new JsonObject()
                  .put("orderId", ORDER_ID)
                  .put("amount", new Money(49900, "NOK").toJson()),
              201);
      say("Oslo's till registered order " + order.getString("orderId") + " with the broker.");

      heading(
          "The customer returns a scarf in Store B (Bergen Bryggen); its till looks the order up");
      JsonObject view = call("GET", "/v1/orders/" + ORDER_ID, bergenToken, null, 200);
      say(
          "Found in store "
              + view.getString("originStoreId")
              + " ("
              + view.getString("originStoreName")
              + "); refundable "
              + Money.fromJson(view.getJsonObject("refundable"))
              + " (amounts read from Vipps with Oslo's keys).");

      heading("Bergen asks the broker to refund 150.00 NOK");
      String key = "bergen-till-1-" + UUID.randomUUID();
      say("who asked:   Bergen Bryggen's POS token, Idempotency-Key " + key);
      JsonObject refund =
          call(
              "POST",
              "/v1/refunds",
              bergenToken,
              new JsonObject()
                  .put("orderId", ORDER_ID)
                  .put("amount", new Money(15000, "NOK").toJson())
                  .put("reason", "Returned scarf"),
              201,
              Map.of("Idempotency-Key", key));
      String refundId = refund.getString("refundId");
      say(
          "store found: "
              + refund.getString("originStoreId")
              + " (from the order, not the cashier)");
      say("answer:      201 " + refund.getString("status") + ", refundId " + refundId);
      printCall(lastCall(), "Oslo's own keys (option B)");

      heading("The same refund with partner keys (option A): one key set for every store");
      Keys partner = Keys.random("-"); // partner keys belong to no MSN
      sandbox
          .sandbox()
          .registerPartner(
              new SandboxPartner(
                  "pos-vendor",
                  partner.clientId(),
                  Secret.of(partner.clientSecret()),
                  Secret.of(partner.subscriptionKey()),
                  Set.of("123456", "654321")));
      JsonObject partnerKeys =
          call(
              "PUT",
              "/v1/admin/partners/pos-vendor/credentials",
              adminToken,
              keysBody(partner),
              200);
      say(
          "partner pos-vendor: keys proved with Vipps and stored as version "
              + partnerKeys.getValue("version")
              + "; Vipps links them to MSNs 123456 and 654321");
      call(
          "PATCH",
          "/v1/admin/stores/oslo-sentrum",
          adminToken,
          new JsonObject().put("partnerId", "pos-vendor"),
          200);
      say(
          "admin switched Oslo Sentrum to partner keys (PATCH partnerId; the tills change nothing)");
      JsonObject underA = refund(bergenToken, ORDER_ID, 5000, "Returned gloves");
      say(
          "answer:      201 "
              + underA.getString("status")
              + ", origin "
              + underA.getString("originStoreId"));
      printCall(lastCall(), "partner pos-vendor's keys, Oslo's MSN from the store record");

      heading(
          "The same refund on one shared sales unit (option C): two shops, one MSN, one key set");
      Keys shared = Keys.random("777777");
      sandbox.sandbox().registerStore(shared.sandboxStore());
      enroll("trondheim-torget", "Trondheim Torget", shared, "T1-");
      call(
          "POST",
          "/v1/admin/stores",
          adminToken,
          new JsonObject()
              .put("storeId", "trondheim-stasjon")
              .put("name", "Trondheim Stasjon")
              .put("msn", "777777")
              .put("chainId", CHAIN)
              .put("orderIdPrefix", "T2-"),
          201);
      say(
          "Trondheim Stasjon: on MSN 777777 too, order-id prefix T2- (no keys of its own: the"
              + " sales unit's are shared)");
      sandbox
          .sandbox()
          .seedPayment(
              SandboxPayment.captured(
                  "777777",
                  "T2-order-2001",
                  VippsApi.EPAYMENT,
                  new Money(19900, "NOK"),
                  Instant.now()));
      say(
          "A customer paid 199.00 NOK in Trondheim Stasjon (order T2-order-2001, never registered)");
      JsonObject underC = refund(bergenToken, "T2-order-2001", 5000, "Returned hat");
      say(
          "answer:      201 "
              + underC.getString("status")
              + ", origin "
              + underC.getString("originStoreId")
              + " (found by its prefix T2-)");
      printCall(lastCall(), "the sales unit's own keys, shared by both Trondheim shops");

      heading("The audit trail (as an auditor reads it)");
      String auditorToken = issue("demo-auditor", "AUDITOR", null);
      JsonArray items = linkedEvents(auditorToken, refundId);
      for (int i = 0; i < items.size(); i++) {
        JsonObject event = items.getJsonObject(i);
        JsonObject subject = event.getJsonObject("subject");
        if (!refundId.equals(subject.getString("id"))) {
          continue;
        }
        JsonObject details = event.getJsonObject("details");
        say(
            "seq "
                + event.getLong("seq")
                + "  "
                + event.getString("action")
                + "  by "
                + event.getJsonObject("actor").getString("role")
                + "  credentials version "
                + details.getValue("credentialsVersion")
                + "  hash "
                + event.getString("hash").substring(0, 16)
                + "…");
      }
      JsonObject verified = call("GET", "/v1/audit/verify", auditorToken, null, 200);
      say(
          "verify: valid="
              + verified.getBoolean("valid")
              + " over "
              + verified.getLong("checkedEvents")
              + " events");

      heading("Try more (the broker keeps serving until Ctrl-C)");
      out.println("  export ADMIN=$(cat " + adminTokenFile + ")   # generated, mode 0600");
      out.println("  export OSLO=" + osloToken);
      out.println("  export BERGEN=" + bergenToken);
      out.println("  export AUDITOR=" + auditorToken);
      out.println(
          "  console:  " + base + "/console/  (sign in by pasting one of the tokens above:");
      out.println(
          "            ADMIN for stores, keys and clients; AUDITOR for the refund log, trail,");
      out.println("            clearing, charts and events; OSLO or BERGEN for the store desk)");
      out.println("  API docs: " + base + "/docs/");
      out.println(
          "  curl -s " + base + "/v1/orders/" + ORDER_ID + " -H \"Authorization: Bearer $BERGEN\"");
      out.println(
          "  curl -s "
              + base
              + "/v1/refunds -H \"Authorization: Bearer $BERGEN\""
              + " -H 'Content-Type: application/json' -H \"Idempotency-Key: $(uuidgen)\""
              + " -d '{\"orderId\":\""
              + ORDER_ID
              + "\",\"amount\":{\"value\":10000,\"currency\":\"NOK\"},\"reason\":\"Second return\"}'");
      out.println(
          "  curl -s " + base + "/v1/refunds/" + refundId + " -H \"Authorization: Bearer $OSLO\"");
      out.println(
          "  curl -s "
              + base
              + "/v1/audit/refunds -H \"Authorization: Bearer $AUDITOR\" -H 'Accept: text/csv'");
      out.println("  curl -s " + base + "/v1/admin/stores -H \"Authorization: Bearer $ADMIN\"");
      out.println("  curl -s " + sandbox.baseUrl() + "/sandbox/v1/ledger");
      out.println();
      out.flush();
    }

    private JsonObject refund(String token, String orderId, long value, String reason) {
      return call(
          "POST",
          "/v1/refunds",
          token,
          new JsonObject()
              .put("orderId", orderId)
              .put("amount", new Money(value, "NOK").toJson())
              .put("reason", reason),
          201,
          Map.of("Idempotency-Key", "bergen-till-" + UUID.randomUUID()));
    }

    private LedgerEntry lastCall() {
      List<LedgerEntry> ledger = sandbox.sandbox().ledger();
      return ledger.get(ledger.size() - 1);
    }

    /** What the Vipps refund call carried: MSN, keys (by client id, never a secret), token. */
    private void printCall(LedgerEntry entry, String whose) {
      say(
          "Vipps call:  POST /"
              + (entry.api() == VippsApi.ECOM ? "ecomm/v2" : "epayment/v1")
              + "/payments/"
              + entry.reference()
              + "/refund  Merchant-Serial-Number: "
              + entry.msn()
              + "  Idempotency-Key: "
              + entry.idempotencyKey());
      say(
          "             authorized with client_id "
              + entry.clientId()
              + " ("
              + whose
              + (entry.partnerId() == null
                  ? ", token of MSN " + entry.tokenMsn()
                  : ", token of partner "
                      + entry.partnerId()
                      + " acting for MSN "
                      + entry.tokenMsn())
              + ") → applied "
              + entry.amount());
    }

    private static JsonObject keysBody(Keys keys) {
      return new JsonObject()
          .put("clientId", keys.clientId())
          .put("clientSecret", keys.clientSecret())
          .put("subscriptionKey", keys.subscriptionKey());
    }

    private String enroll(String storeId, String name, Keys keys, String prefix) {
      JsonObject store =
          new JsonObject()
              .put("storeId", storeId)
              .put("name", name)
              .put("msn", keys.msn())
              .put("chainId", CHAIN);
      if (prefix != null) {
        store.put("orderIdPrefix", prefix);
      }
      call("POST", "/v1/admin/stores", adminToken, store, 201);
      JsonObject stored =
          call(
              "PUT",
              "/v1/admin/stores/" + storeId + "/credentials",
              adminToken,
              keysBody(keys),
              200);
      say(
          name
              + ": MSN "
              + keys.msn()
              + ", keys proved with Vipps and stored as credentials version "
              + stored.getValue("version")
              + " (never shown again)");
      return issue(storeId + "-pos", "STORE", storeId);
    }

    /**
     * The chain as an auditor lists it, once the refund's outcome is linked into it (events commit
     * with their change and the sequencer links them moments later).
     */
    private JsonArray linkedEvents(String auditorToken, String refundId) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (true) {
        JsonArray items =
            call("GET", "/v1/audit/events?afterSeq=0&limit=1000", auditorToken, null, 200)
                .getJsonArray("events");
        boolean linked =
            items.stream()
                .map(JsonObject.class::cast)
                .anyMatch(
                    e ->
                        refundId.equals(e.getJsonObject("subject").getString("id"))
                            && !e.getString("action").equals("refund.requested"));
        if (linked || System.nanoTime() - deadline > 0) {
          return items;
        }
        LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
      }
    }

    private String issue(String name, String role, String storeId) {
      JsonObject client = new JsonObject().put("name", name).put("role", role);
      if (storeId != null) {
        client.put("storeId", storeId);
      }
      return call("POST", "/v1/admin/clients", adminToken, client, 201).getString("token");
    }

    private JsonObject call(
        String method, String path, String token, JsonObject body, int expected) {
      return call(method, path, token, body, expected, Map.of());
    }

    private JsonObject call(
        String method,
        String path,
        String token,
        JsonObject body,
        int expected,
        Map<String, String> headers) {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(base + path))
              .timeout(Duration.ofSeconds(30))
              .header("Authorization", "Bearer " + token)
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(body.encode()));
      if (body != null) {
        request.header("Content-Type", "application/json");
      }
      headers.forEach(request::header);
      try {
        HttpResponse<String> response =
            http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != expected) {
          throw new IllegalStateException(
              method + " " + path + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body().isEmpty() ? new JsonObject() : new JsonObject(response.body());
      } catch (IOException e) {
        throw new UncheckedIOException(method + " " + path, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }

    private void heading(String text) {
      out.println();
      out.println("[" + ++step + "] " + text);
    }

    private void say(String text) {
      out.println("    " + text);
    }
  }

  /** A demo store's Vipps keys, generated for this run (the sandbox accepts them). */
  private record Keys(String msn, String clientId, String clientSecret, String subscriptionKey) {
    static Keys random(String msn) {
      return new Keys(msn, UUID.randomUUID().toString(), hex(24), hex(16));
    }

    SandboxStore sandboxStore() {
      return new SandboxStore(msn, clientId, Secret.of(clientSecret), Secret.of(subscriptionKey));
    }

    private static String hex(int bytes) {
      byte[] raw = new byte[bytes];
      RANDOM.nextBytes(raw);
      return HexFormat.of().formatHex(raw);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

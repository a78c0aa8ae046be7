package io.refundbroker.credential;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.Secret;
import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.testing.vault.VaultDouble;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The whole flow with canary secrets, on each credential backend: stores enrolled with distinctive
 * random keys, a refused key set, a rotation, cross-store refunds (one whose answer is lost and
 * that the reconciler settles, one after Vipps revoked every token), order and refund reads, the
 * admin's views and every auditor read and export, all with TRACE logging and the Vipps HTTP trace
 * on. Afterwards no client secret, subscription key, Vipps access token, API token, Vault token or
 * secret id, key-encryption key or audit signing key may appear in the captured logs, any HTTP
 * response the test saw, the metrics, or any text-like or binary column of any table.
 *
 * <p>Each search is first shown to find what it looks for: the canaries were really sent to the
 * sandbox, and the same searches find values that legitimately are in the logs, the responses, the
 * metrics and the database. Failures name the secret by its label, never by its value.
 */
class WholeFlowSecretCanaryIT {
  private static final String OSLO_MSN = "530001";
  private static final String BERGEN_MSN = "530002";
  private static final String ORDER_1 = "530001-order-1";
  private static final String ORDER_2 = "530001-order-2";
  private static final String ORDER_3 = "530001-order-3";

  @ParameterizedTest
  @EnumSource(CredentialBackendKind.class)
  void noSecretLeavesItsPlace(CredentialBackendKind backend) throws IOException {
    Map<String, String> secrets = new LinkedHashMap<>();
    List<HttpResult> responses = new ArrayList<>();
    VaultDouble vault = backend == CredentialBackendKind.VAULT ? VaultDouble.start() : null;
    try (LogCapture logs = LogCapture.atTrace();
        RefundWorld world =
            RefundWorld.start(
                builder ->
                    backend
                        .configure(builder, vault)
                        .env("VIPPS_TRACE_HTTP", "true")
                        .env("BROKER_LOG_LEVEL", "trace"))) {
      StoreCredentials osloV1 = canaryKeys(OSLO_MSN, 1);
      StoreCredentials bergenKeys = canaryKeys(BERGEN_MSN, 1);
      StoreCredentials refused = canaryKeys(OSLO_MSN, 9);
      StoreCredentials osloV2 = canaryKeys(OSLO_MSN, 2);
      Shop oslo = world.shop("canary-oslo", "canary", OSLO_MSN, osloV1);
      Shop bergen = world.shop("canary-bergen", "canary", BERGEN_MSN, bergenKeys);
      String admin = world.broker.adminToken();
      HttpResult issued =
          world.broker.post(
              "/v1/admin/clients",
              admin,
              new JsonObject().put("name", "canary-auditor").put("role", "AUDITOR"));
      assertThat(issued.status()).as(issued.toString()).isEqualTo(201);
      String auditor = issued.json().getString("token");

      // Keys Vipps does not know are refused; then Vipps rotates Oslo's keys and so do we.
      HttpResult refusedRotation = rotate(world, oslo, refused);
      assertThat(refusedRotation.status()).as(refusedRotation.toString()).isEqualTo(422);
      responses.add(refusedRotation);
      world.sale(oslo, ORDER_1, 60_000);
      world.sale(oslo, ORDER_2, 60_000);
      world.sale(oslo, ORDER_3, 60_000);
      responses.add(expect(201, world.refund(bergen, "canary-1", refundBody(ORDER_1, 10_000))));
      world.vipps.register(osloV2);
      responses.add(expect(200, rotate(world, oslo, osloV2)));
      responses.add(expect(201, world.refund(bergen, "canary-2", refundBody(ORDER_1, 10_000))));

      // Vipps applies a refund but the answer is lost; the reconciler settles it.
      world
          .vipps
          .sandbox()
          .inject(Fault.applyThenDrop().on(Fault.Target.REFUND).forReference(ORDER_2).times(1));
      HttpResult unknown =
          expect(202, world.refund(bergen, "canary-3", refundBody(ORDER_2, 5_000)));
      responses.add(unknown);
      assertThat(unknown.json().getString("status")).isEqualTo("UNKNOWN");
      world.reconcileUntilResolved(5);
      assertThat(world.unresolved()).isZero();
      String unknownId = unknown.json().getString("refundId");

      // Vipps revokes every token: 401, a new token, one retry.
      Set<String> vippsTokens = new LinkedHashSet<>(world.vipps.sandbox().issuedTokens());
      world.vipps.sandbox().revokeTokens();
      responses.add(expect(201, world.refund(bergen, "canary-4", refundBody(ORDER_3, 7_000))));

      // Reads: stores, admin, auditor, operations.
      responses.add(expect(200, world.broker.get("/v1/orders/" + ORDER_1, bergen.token())));
      responses.add(expect(200, world.broker.get("/v1/orders/" + ORDER_2, oslo.token())));
      responses.add(expect(200, world.broker.get("/v1/refunds/" + unknownId, bergen.token())));
      responses.add(expect(200, world.broker.get("/v1/refunds?orderId=" + ORDER_1, oslo.token())));
      responses.add(
          expect(200, world.broker.get("/v1/admin/stores/canary-oslo/credentials", admin)));
      responses.add(expect(200, world.broker.get("/v1/admin/stores", admin)));
      responses.add(expect(200, world.broker.get("/v1/admin/clients", admin)));
      String month = YearMonth.from(world.now().atZone(ZoneOffset.UTC)).toString();
      for (String path :
          List.of(
              "/v1/audit/events",
              "/v1/audit/refunds",
              "/v1/audit/verify",
              "/v1/audit/checkpoints",
              "/v1/audit/public-key",
              "/v1/audit/clearing?chainId=canary&month=" + month)) {
        responses.add(expect(200, world.broker.get(path, auditor)));
      }
      responses.add(
          expect(200, export(world, "/v1/audit/events", auditor, "application/x-ndjson")));
      responses.add(expect(200, export(world, "/v1/audit/refunds", auditor, "text/csv")));
      responses.add(expect(200, world.broker.get("/health/ready", null)));
      HttpResult metricsPage = expect(200, world.broker.get("/metrics", null));
      responses.add(metricsPage);

      Await.result(world.vipps.sandbox().whenIdle());
      List<RecordedRequest> wire = world.vipps.sandbox().requests();
      vippsTokens.addAll(world.vipps.sandbox().issuedTokens());
      wire.forEach(
          r ->
              r.header(VippsHeaders.AUTHORIZATION)
                  .map(h -> h.substring("Bearer ".length()))
                  .ifPresent(vippsTokens::add));

      // ---------------------------------------------------------------- the canaries
      Map<String, String> vippsSecrets = new LinkedHashMap<>();
      for (var keys :
          Map.of("oslo v1", osloV1, "oslo v2", osloV2, "bergen", bergenKeys, "refused", refused)
              .entrySet()) {
        vippsSecrets.put(
            "client secret of " + keys.getKey(), keys.getValue().clientSecret().reveal());
        vippsSecrets.put(
            "subscription key of " + keys.getKey(), keys.getValue().subscriptionKey().reveal());
      }
      secrets.putAll(vippsSecrets);
      Map<String, String> vippsTokenSecrets = new LinkedHashMap<>();
      int n = 0;
      for (String token : vippsTokens) {
        vippsTokenSecrets.put("Vipps access token #" + ++n, token);
      }
      secrets.putAll(vippsTokenSecrets);
      secrets.put("admin API token", admin);
      secrets.put("Oslo's API token", oslo.token());
      secrets.put("Bergen's API token", bergen.token());
      secrets.put("auditor API token", auditor);
      if (vault != null) {
        secrets.put("Vault AppRole secret id", vault.secretId());
        n = 0;
        for (String token : vault.issuedTokens()) {
          secrets.put("Vault token #" + ++n, token);
        }
      }
      keyFileSecret(world.broker.config().credentials().localKeyFile())
          .ifPresent(kek -> secrets.put("local key-encryption key", kek));
      keyFileSecret(world.broker.config().audit().signingKeyFile())
          .ifPresent(key -> secrets.put("audit signing key", key));

      // ---------------------------------------------------------------- the searches work
      String wireHeaders =
          wire.stream()
              .flatMap(r -> r.headers().stream())
              .map(h -> h.getKey() + ": " + h.getValue())
              .collect(Collectors.joining("\n"));
      assertThat(found(wireHeaders, vippsSecrets))
          .as("every Vipps key canary really went to Vipps")
          .containsExactlyElementsOf(vippsSecrets.keySet());
      assertThat(vippsTokens).as("Vipps tokens issued and used").hasSizeGreaterThanOrEqualTo(5);
      assertThat(found(wireHeaders, vippsTokenSecrets))
          .as("Vipps tokens were sent as bearer tokens")
          .hasSizeGreaterThanOrEqualTo(3);
      assertThat(found(issued.text(), Map.of("auditor token", auditor)))
          .as("an API token is shown once, when issued")
          .isNotEmpty();
      if (vault != null) {
        assertThat(secrets).containsKey("Vault token #2");
      } else {
        assertThat(secrets).containsKeys("local key-encryption key", "audit signing key");
      }
      String logText = logs.text();
      Map<String, String> legit = Map.of("order id", ORDER_2, "refund id", unknownId);
      assertThat(logs.events()).as("TRACE logging was active").isPositive();
      assertThat(logText)
          .contains("vipps http > POST /accesstoken/get")
          .contains("vipps http > POST /epayment/v1/payments/" + ORDER_2 + "/refund");
      assertThat(found(logText, legit)).as("the log search finds logged values").isNotEmpty();
      String responseText =
          responses.stream()
              .map(r -> r.headers().toString() + "\n" + r.text())
              .collect(Collectors.joining("\n"));
      assertThat(found(responseText, legit)).as("the response search").hasSize(2);
      String metrics = world.broker.registry().scrape() + "\n" + metricsPage.text();
      assertThat(metrics)
          .contains("vipps_token_invalidations_total")
          .contains("vipps_token_fetches_total");
      Map<String, List<String>> legitInDb = columnsHolding(world.broker.database(), legit);
      assertThat(legitInDb)
          .as("the column search finds values in text and jsonb columns")
          .containsKeys("public.orders.order_id", "public.audit_entries.details")
          .containsKey("public.refunds.upstream_key");

      // ---------------------------------------------------------------- no secret leaked
      // every canary also as Base64 (standard and URL-safe, with and without padding),
      // %-encoded and hex: an encoding is no hiding place
      Map<String, String> raw = new LinkedHashMap<>(secrets);
      secrets.clear();
      secrets.putAll(withEncodings(raw));
      assertThat(
              found(
                  Base64.getEncoder().encodeToString(admin.getBytes(StandardCharsets.UTF_8)),
                  secrets))
          .as("the encoded search finds an encoded canary")
          .contains("admin API token (base64)");
      assertThat(found(logText, secrets)).as("secrets in the logs").isEmpty();
      for (HttpResult response : responses) {
        assertThat(found(response.headers().toString() + "\n" + response.text(), secrets))
            .as("secrets in a response: " + response.status())
            .isEmpty();
      }
      assertThat(found(metrics, secrets)).as("secrets in the metrics").isEmpty();
      assertThat(columnsHolding(world.broker.database(), secrets))
          .as("columns holding a secret")
          .isEmpty();
      // the sandbox's records: what Vipps received carries only what Vipps must get (its keys and
      // tokens), never the broker's own secrets; its ledger carries none at all
      Map<String, String> notForVipps = new LinkedHashMap<>(secrets);
      notForVipps
          .keySet()
          .removeIf(
              label ->
                  label.startsWith("client secret of ")
                      || label.startsWith("subscription key of ")
                      || label.startsWith("Vipps access token"));
      String sandboxRecords =
          wire.stream()
                  .map(r -> r.method() + " " + r.path() + "\n" + r.headers() + "\n" + r.body())
                  .collect(Collectors.joining("\n"))
              + "\n"
              + world.vipps.sandbox().ledger();
      assertThat(found(sandboxRecords, notForVipps)).as("broker secrets sent to Vipps").isEmpty();
      assertThat(found(String.valueOf(world.vipps.sandbox().ledger()), secrets))
          .as("secrets in the sandbox's ledger")
          .isEmpty();
      world.vipps.assertNoViolations();
    } finally {
      if (vault != null) {
        assertThat(vault.specViolations()).isEmpty();
        vault.close();
      }
    }
  }

  /** Distinctive random keys (registered nowhere yet). */
  private static StoreCredentials canaryKeys(String msn, int version) {
    return new StoreCredentials(
        msn,
        version,
        UUID.randomUUID().toString(),
        Secret.of("canary-cs-" + TestSandbox.randomHex(20)),
        Secret.of("canary-sk-" + TestSandbox.randomHex(12)));
  }

  private static HttpResult rotate(RefundWorld world, Shop shop, StoreCredentials keys) {
    return world.broker.send(
        HttpMethod.PUT,
        "/v1/admin/stores/" + shop.storeId() + "/credentials",
        world.broker.adminToken(),
        new JsonObject()
            .put("clientId", keys.clientId())
            .put("clientSecret", keys.clientSecret().reveal())
            .put("subscriptionKey", keys.subscriptionKey().reveal()));
  }

  private static HttpResult export(RefundWorld world, String path, String token, String type) {
    return world.broker.send(HttpMethod.GET, path, token, null, Map.of("Accept", type));
  }

  private static HttpResult expect(int status, HttpResult result) {
    assertThat(result.status()).as(result.toString()).isEqualTo(status);
    return result;
  }

  /** The secret material of a key file (its base64 body, without PEM armour), if there is one. */
  private static Optional<String> keyFileSecret(Path file) throws IOException {
    if (file == null || !Files.exists(file)) {
      return Optional.empty();
    }
    String body =
        Files.readAllLines(file, StandardCharsets.US_ASCII).stream()
            .filter(line -> !line.startsWith("-----"))
            .map(String::strip)
            .collect(Collectors.joining());
    assertThat(body).as(file + " holds a key").hasSizeGreaterThan(20);
    return Optional.of(body);
  }

  /** Each canary raw, as Base64 (standard, URL-safe, unpadded), %-encoded and as hex. */
  static Map<String, String> withEncodings(Map<String, String> canaries) {
    Map<String, String> all = new LinkedHashMap<>();
    canaries.forEach(
        (label, value) -> {
          byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
          all.put(label, value);
          all.put(label + " (base64)", Base64.getEncoder().encodeToString(bytes));
          all.put(
              label + " (base64, unpadded)",
              Base64.getEncoder().withoutPadding().encodeToString(bytes));
          all.put(
              label + " (base64url)",
              Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
          all.put(label + " (url-encoded)", URLEncoder.encode(value, StandardCharsets.UTF_8));
          all.put(label + " (hex)", HexFormat.of().formatHex(bytes));
          all.put(label + " (HEX)", HexFormat.of().withUpperCase().formatHex(bytes));
        });
    return all;
  }

  /** The labels of the {@code canaries} whose values occur in {@code text}. */
  private static List<String> found(String text, Map<String, String> canaries) {
    return canaries.entrySet().stream()
        .filter(c -> text.contains(c.getValue()))
        .map(Map.Entry::getKey)
        .toList();
  }

  /**
   * Every column of every table (outside the catalogs) that is text-like (text, varchar, char,
   * json, jsonb, arrays, enums) or binary, searched for every canary: column → labels found.
   */
  private static Map<String, List<String>> columnsHolding(
      TestDatabase db, Map<String, String> canaries) {
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
        .contains("credential_versions", "audit_entries", "refunds", "api_clients");
    assertThat(columns).extracting(c -> c.get("data_type")).contains("text", "jsonb");
    Map<String, String> labels = new TreeMap<>();
    canaries.forEach((label, value) -> labels.put(value, label));
    String joined = String.join("\n", canaries.values());
    Map<String, List<String>> holding = new TreeMap<>();
    for (Map<String, Object> column : columns) {
      String name =
          column.get("table_schema")
              + "."
              + column.get("table_name")
              + "."
              + column.get("column_name");
      String qualified =
          "\"" + column.get("table_schema") + "\".\"" + column.get("table_name") + "\"";
      String quotedColumn = "x.\"" + column.get("column_name") + "\"";
      String match =
          "bytea".equals(column.get("data_type"))
              ? "position(convert_to(c.v, 'UTF8') in " + quotedColumn + ") > 0"
              : "position(c.v in " + quotedColumn + "::text) > 0";
      List<String> hits =
          db
              .query(
                  "SELECT DISTINCT c.v AS v FROM "
                      + qualified
                      + " x, unnest(string_to_array(?, E'\\n')) AS c(v) WHERE "
                      + match,
                  joined)
              .stream()
              .map(row -> labels.get((String) row.get("v")))
              .toList();
      if (!hits.isEmpty()) {
        holding.put(name, hits);
      }
    }
    return holding;
  }
}

package io.refundbroker.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.auth.certificate.CertificateAuthority;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.credential.CredentialBackend;
import io.refundbroker.credential.local.LocalCredentialBackend;
import io.refundbroker.credential.vault.VaultCredentialBackend;
import io.refundbroker.credential.vault.VaultSession;
import io.refundbroker.db.Database;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.Pem;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPki;
import io.refundbroker.testing.TestPostgres;
import io.refundbroker.testing.TlsClient;
import io.refundbroker.testing.vault.VaultDouble;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Canary: the client CA's private key — created at the first start and used for every enrolment —
 * never appears in a log line (at TRACE), an HTTP response (the CA certificate, enrolments good and
 * refused, listings, mutual-TLS calls, health, metrics) or any column of the database, text or
 * binary, as PEM, as its base64 body, as DER or as the bare private scalar. It is read back here
 * only through the credential backend that keeps it.
 */
class ClientCaKeyCanaryIT {
  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(CredentialBackendKind.class)
  void theCaPrivateKeyNeverLeavesTheCredentialBackend(CredentialBackendKind backend)
      throws Exception {
    TestPki serverCa = TestPki.newCa("canary server CA");
    TestPki.Issued server = serverCa.server("refund-broker");
    Path cert = dir.resolve("server.pem");
    Path key = dir.resolve("server-key.pem");
    Files.writeString(cert, server.certificatePem());
    Files.writeString(key, server.keyPem());
    VaultDouble vault = backend == CredentialBackendKind.VAULT ? VaultDouble.start() : null;
    List<HttpResult> responses = new ArrayList<>();
    TestDatabase db = TestPostgres.newDatabase(); // before TRACE logging: PostgreSQL starts quietly
    try (LogCapture logs = LogCapture.atTrace();
        TestBroker broker =
            backend
                .configure(TestBroker.builder().database(db), vault)
                .env("BROKER_LOG_LEVEL", "trace")
                .env("BROKER_TLS_CERT", cert.toString())
                .env("BROKER_TLS_KEY", key.toString())
                .env("BROKER_TLS_CLIENT_AUTH", "request")
                .tlsTrust(serverCa.caPem())
                .start()) {
      broker.createStore("oslo-1", "acme", "123456");
      String admin = broker.adminToken();
      responses.add(broker.get("/v1/admin/ca.pem", admin));
      KeyPair till = TestPki.ec("secp256r1");
      HttpResult enrolled =
          broker.post("/v1/admin/clients", admin, enrolment(TestPki.csr(till, "t")));
      responses.add(enrolled);
      responses.add(
          broker.post("/v1/admin/clients", admin, enrolment(TestPki.csr(TestPki.rsa(1024), "t"))));
      responses.add(
          broker.post(
              "/v1/admin/clients",
              admin,
              enrolment(TestPki.csrSignedBy(till, TestPki.ec("secp256r1").getPrivate(), "t"))));
      responses.add(broker.post("/v1/admin/clients", admin, enrolment("-----BEGIN nonsense")));
      responses.add(broker.get("/v1/admin/clients", admin));
      String clientId = enrolled.json().getString("clientId");
      try (TlsClient pos =
          TlsClient.withCertificate(
              broker.vertx(),
              broker.port(),
              serverCa.caPem(),
              enrolled.json().getString("certificate"),
              TestPki.privateKeyPem(till))) {
        responses.add(Await.result(pos.get("/v1/orders/123456-1", null)).result());
        responses.add(broker.send(HttpMethod.DELETE, "/v1/admin/clients/" + clientId, admin, null));
        responses.add(Await.result(pos.get("/v1/orders/123456-1", null)).result());
      }
      responses.add(broker.get("/health/ready", null));
      responses.add(broker.get("/metrics", null));
      assertThat(responses.get(1).status()).isEqualTo(201);
      assertThat(responses.get(6).status()).as("the till got in").isEqualTo(404);
      assertThat(responses.get(8).status()).as("and was refused after revocation").isEqualTo(401);

      Map<String, String> stored = storedCa(broker, backend, vault);
      String keyPem = stored.get("privateKey");
      assertThat(Pem.read(keyPem).getType()).isEqualTo("PRIVATE KEY");
      assertThat(responses.get(0).text())
          .as("the endpoint serves the stored CA certificate")
          .isEqualTo(stored.get("certificate"));
      byte[] der = Pem.read(keyPem).getContent();
      ECPrivateKey ecKey =
          (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
      byte[] scalar = unsigned(ecKey.getS(), 32);

      List<String> canaries = new ArrayList<>();
      canaries.add(keyPem.trim());
      String body = Base64.getEncoder().encodeToString(der);
      canaries.add(body);
      canaries.add(body.substring(0, 40));
      canaries.add(body.substring(body.length() - 40));
      canaries.add(Base64.getEncoder().encodeToString(scalar));
      canaries.add(HexFormat.of().formatHex(scalar));

      assertThat(logs.events()).as("TRACE logging was active").isPositive();
      assertThat(logs.text())
          .as("the CA was created and used")
          .contains("client certificate authority");
      for (String canary : canaries) {
        assertThat(logs.text()).as("logs").doesNotContain(canary);
        for (HttpResult response : responses) {
          assertThat(response.text()).as("response").doesNotContain(canary);
        }
      }
      assertNoColumnHolds(broker, canaries, List.of(der, scalar));
    } finally {
      if (vault != null) {
        assertThat(vault.specViolations()).isEmpty();
        vault.close();
      }
    }
  }

  private static JsonObject enrolment(String csr) {
    return new JsonObject()
        .put("name", "till")
        .put("role", "STORE")
        .put("storeId", "oslo-1")
        .put("csr", csr);
  }

  /** The CA as the credential backend keeps it (the only place it may be). */
  private static Map<String, String> storedCa(
      TestBroker broker, CredentialBackendKind kind, VaultDouble vault) {
    BrokerConfig config = broker.config();
    Database database =
        Database.connect(
            broker.vertx(), broker.database().appUrl(), 1, broker.database().schemaVersion());
    CredentialBackend backend;
    if (kind == CredentialBackendKind.LOCAL) {
      backend =
          Await.result(
              LocalCredentialBackend.open(
                      broker.vertx(), database.pool(), config.credentials().localKeyFile())
                  .map(b -> b));
    } else {
      backend =
          new VaultCredentialBackend(
              Await.result(VaultSession.start(broker.vertx(), config.vault())), config.vault());
    }
    try {
      return Await.result(
          backend.brokerSecret(
              CertificateAuthority.SECRET_NAME,
              () -> Future.failedFuture(new AssertionError("the broker created no CA"))));
    } finally {
      Await.result(backend.close());
      Await.result(database.close());
    }
  }

  /**
   * Every text-like or bytea column of every table, searched for every canary (one query per table;
   * a hit names the table and column).
   */
  private static void assertNoColumnHolds(
      TestBroker broker, List<String> texts, List<byte[]> binaries) {
    List<Map<String, Object>> columns =
        broker
            .database()
            .query(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
                    + " WHERE table_schema = 'public' AND data_type IN ('text', 'character"
                    + " varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED')");
    assertThat(columns).extracting(c -> c.get("table_name")).contains("api_clients");
    Map<String, List<Map<String, Object>>> byTable = new java.util.TreeMap<>();
    columns.forEach(
        c -> byTable.computeIfAbsent((String) c.get("table_name"), t -> new ArrayList<>()).add(c));
    int searched = 0;
    for (Map.Entry<String, List<Map<String, Object>>> table : byTable.entrySet()) {
      List<String> conditions = new ArrayList<>();
      List<Object> params = new ArrayList<>();
      for (Map<String, Object> column : table.getValue()) {
        String name = "\"" + column.get("column_name") + "\"";
        boolean binary = "bytea".equals(column.get("data_type"));
        for (String canary : texts) {
          conditions.add(
              binary
                  ? "position(convert_to(?, 'UTF8') in " + name + ") > 0"
                  : name + "::text LIKE ?");
          params.add(binary ? canary : "%" + canary + "%");
        }
        if (binary) {
          for (byte[] canary : binaries) {
            conditions.add("position(?::bytea in " + name + ") > 0");
            params.add(canary);
          }
        }
      }
      searched += conditions.size();
      long hits =
          broker
              .database()
              .queryLong(
                  "SELECT count(*) FROM \""
                      + table.getKey()
                      + "\" WHERE "
                      + String.join(" OR ", conditions),
                  params.toArray());
      assertThat(hits).as(table.getKey() + " holds the CA key in " + table.getValue()).isZero();
    }
    assertThat(searched).isGreaterThan(40);
  }

  private static byte[] unsigned(BigInteger value, int length) {
    byte[] raw = value.toByteArray();
    byte[] out = new byte[length];
    int copy = Math.min(raw.length, length);
    System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
    return out;
  }
}

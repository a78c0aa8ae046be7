package io.refundbroker.auth;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.Await;
import io.refundbroker.testing.BrokerContract;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPki;
import io.refundbroker.testing.TestPostgres;
import io.refundbroker.testing.TlsClient;
import io.refundbroker.testing.TlsClient.Answer;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client certificates over real TLS handshakes: a till makes its own key and a PKCS#10 request, an
 * admin enrols it, and the broker's CA issues a certificate naming the client; the till then
 * refunds with that certificate and its own key (Vert.x client), as the store it was enrolled for.
 * Revocation refuses the certificate on the next request — on the same kept-alive connection and on
 * another instance sharing the database. Certificates of another CA and expired ones get no access;
 * tokens keep working under {@code request} and are refused under {@code require}.
 */
class ClientCertificateIT {
  @TempDir Path dir;

  private TestPki serverCa;
  private Path certFile;
  private Path keyFile;

  @BeforeEach
  void serverCertificate() throws IOException {
    serverCa = TestPki.newCa("test server CA " + UUID.randomUUID());
    TestPki.Issued server = serverCa.server("refund-broker");
    certFile = dir.resolve("server.pem");
    keyFile = dir.resolve("server-key.pem");
    Files.writeString(certFile, server.certificatePem());
    Files.writeString(keyFile, server.keyPem());
  }

  private TestBroker.Builder https(TestBroker.Builder builder, String clientAuth) {
    return builder
        .env("BROKER_TLS_CERT", certFile.toString())
        .env("BROKER_TLS_KEY", keyFile.toString())
        .env("BROKER_TLS_CLIENT_AUTH", clientAuth)
        .tlsTrust(serverCa.caPem());
  }

  /** A till's enrolment: its own key, and what the admin call answered. */
  private record Till(KeyPair keys, String clientId, String certificatePem) {
    String keyPem() {
      return TestPki.privateKeyPem(keys);
    }
  }

  private static Till enrol(TestBroker broker, String role, String storeId) {
    KeyPair keys = TestPki.ec("secp256r1");
    JsonObject body =
        new JsonObject()
            .put("name", "till-" + UUID.randomUUID())
            .put("role", role)
            .put("csr", TestPki.csr(keys, "till asked for this name"));
    if (storeId != null) {
      body.put("storeId", storeId);
    }
    HttpResult enrolled = broker.post("/v1/admin/clients", broker.adminToken(), body);
    assertThat(enrolled.status()).as(enrolled.toString()).isEqualTo(201);
    JsonObject json = enrolled.json();
    return new Till(keys, json.getString("clientId"), json.getString("certificate"));
  }

  private TlsClient client(TestBroker broker, Till till) {
    return TlsClient.withCertificate(
        broker.vertx(), broker.port(), serverCa.caPem(), till.certificatePem(), till.keyPem());
  }

  @Test
  void anEnrolledTillRefundsOverMutualTlsAsItsStoreUntilRevoked() throws Exception {
    try (RefundWorld world = RefundWorld.start(b -> https(b, "request"))) {
      TestBroker broker = world.broker;
      Shop oslo = world.shop("oslo-1", "acme", "123456");
      world.shop("bergen-1", "acme", "654321");
      world.sale(oslo, "123456-order-1", 49900);

      KeyPair keys = TestPki.ec("secp256r1");
      HttpResult enrolled =
          broker.post(
              "/v1/admin/clients",
              broker.adminToken(),
              new JsonObject()
                  .put("name", "bergen till 1")
                  .put("role", "STORE")
                  .put("storeId", "bergen-1")
                  .put("csr", TestPki.csr(keys, "whatever the till asks for")));
      assertThat(enrolled.status()).as(enrolled.toString()).isEqualTo(201);
      JsonObject issued = enrolled.json();
      String clientId = issued.getString("clientId");
      assertThat(issued.containsKey("token")).as("no token for a certificate client").isFalse();
      assertThat(issued.getString("role")).isEqualTo("STORE");
      assertThat(issued.getString("storeId")).isEqualTo("bergen-1");
      assertThat(enrolled.header("Location")).isEqualTo("/v1/admin/clients/" + clientId);

      X509Certificate certificate = TestPki.parseCertificate(issued.getString("certificate"));
      X509Certificate ca =
          TestPki.parseCertificate(broker.get("/v1/admin/ca.pem", broker.adminToken()).text());
      assertThat(certificate.getSubjectX500Principal().getName())
          .contains("CN=" + clientId)
          .contains("O=bergen-1")
          .doesNotContain("whatever");
      assertThat(certificate.getPublicKey().getEncoded())
          .as("the till's own key, which never left it")
          .isEqualTo(keys.getPublic().getEncoded());
      assertThat(certificate.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
      assertThat(verifies(certificate, ca)).as("signed by the broker's CA").isTrue();
      assertThat(certificate.getSerialNumber().toString(16))
          .isEqualTo(issued.getString("serialNumber"));
      Instant notAfter = certificate.getNotAfter().toInstant();
      assertThat(notAfter)
          .as("BROKER_CLIENT_CERT_VALIDITY defaults to 365 days")
          .isBetween(
              Instant.now().plus(Duration.ofDays(364)), Instant.now().plus(Duration.ofDays(366)));
      assertThat(Instant.parse(issued.getString("notAfter"))).isEqualTo(notAfter);
      assertThat(certificate.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
      assertThat(certificate.getBasicConstraints()).as("not a CA").isEqualTo(-1);

      Till till = new Till(keys, clientId, issued.getString("certificate"));
      try (TlsClient pos = client(broker, till)) {
        Answer refund =
            Await.result(
                pos.send(
                    HttpMethod.POST,
                    "/v1/refunds",
                    null,
                    RefundWorld.refundBody("123456-order-1", 15000),
                    Map.of("Idempotency-Key", "bergen-cert-1")));
        assertThat(refund.result().status()).as(refund.result().toString()).isEqualTo(201);
        assertThat(refund.result().json().getString("status")).isEqualTo("SUCCEEDED");
        assertThat(refund.result().json().getString("requestingStoreId")).isEqualTo("bergen-1");
        assertThat(refund.result().json().getString("originStoreId")).isEqualTo("oslo-1");
        assertThat(
                broker
                    .database()
                    .queryLong(
                        "SELECT count(*) FROM refunds WHERE requesting_client_id = ?"
                            + " AND requesting_store_id = 'bergen-1'",
                        clientId))
            .as("the refund is recorded as the certificate's client")
            .isEqualTo(1);
        assertThat(world.ledger())
            .singleElement()
            .satisfies(e -> assertThat(e.msn()).isEqualTo("123456"));

        JsonObject listed =
            broker
                .get("/v1/admin/clients", broker.adminToken())
                .json()
                .getJsonArray("clients")
                .stream()
                .map(JsonObject.class::cast)
                .filter(c -> clientId.equals(c.getString("clientId")))
                .findFirst()
                .orElseThrow();
        assertThat(listed.getString("authentication")).isEqualTo("certificate");
        assertThat(listed.getJsonObject("certificate").getString("serialNumber"))
            .isEqualTo(issued.getString("serialNumber"));

        Answer before = Await.result(pos.get("/v1/orders/123456-order-1", null));
        assertThat(before.result().status()).as(before.result().toString()).isEqualTo(200);

        HttpResult revoked =
            broker.send(
                HttpMethod.DELETE, "/v1/admin/clients/" + clientId, broker.adminToken(), null);
        assertThat(revoked.status()).isEqualTo(204);

        Answer after = Await.result(pos.get("/v1/orders/123456-order-1", null));
        assertThat(after.connection())
            .as("the next request, on the same kept-alive TLS connection")
            .isSameAs(before.connection());
        assertProblem(after.result(), 401, "CLIENT_CERTIFICATE_REFUSED");
        assertThat(
                BrokerContract.violations("GET", "/v1/orders/123456-order-1", null, after.result()))
            .as("the 401 is the contract's")
            .isEmpty();
      }
      try (TlsClient fresh = client(broker, till)) {
        assertProblem(
            Await.result(fresh.get("/v1/orders/123456-order-1", null)).result(),
            401,
            "CLIENT_CERTIFICATE_REFUSED");
      }
      assertThat(world.ledger()).as("nothing more reached Vipps").hasSize(1);
    }
  }

  @Test
  void revocationOnOneInstanceRefusesTheCertificateOnAnother() throws IOException {
    TestDatabase db = TestPostgres.newDatabase();
    Path kek = Files.createTempDirectory("rb-kek").resolve("shared.kek");
    String admin = Tokens.newToken();
    try (TestBroker a = instance(db, kek, admin, "request");
        TestBroker b = instance(db, kek, admin, "request")) {
      assertThat(b.get("/v1/admin/ca.pem", admin).text())
          .as("both instances use the one CA kept by the credential backend")
          .isEqualTo(a.get("/v1/admin/ca.pem", admin).text());
      Till auditor = enrol(a, "AUDITOR", null);
      try (TlsClient onB = client(b, auditor)) {
        Answer first = Await.result(onB.get("/v1/audit/verify", null));
        assertThat(first.result().status()).as(first.result().toString()).isEqualTo(200);

        assertThat(
                a.send(HttpMethod.DELETE, "/v1/admin/clients/" + auditor.clientId(), admin, null)
                    .status())
            .isEqualTo(204);

        Answer next = Await.result(onB.get("/v1/audit/verify", null));
        assertThat(next.connection()).isSameAs(first.connection());
        assertProblem(next.result(), 401, "CLIENT_CERTIFICATE_REFUSED");
      }
    }
  }

  @Test
  void certificatesOfAnotherCaAndExpiredOnesGetNoAccess() {
    try (RefundWorld world =
        RefundWorld.start(b -> https(b, "request").env("BROKER_CLIENT_CERT_VALIDITY", "1h"))) {
      TestBroker broker = world.broker;
      Till valid = enrol(broker, "ADMIN", null);
      try (TlsClient pos = client(broker, valid)) {
        HttpResult ok = Await.result(pos.get("/v1/admin/clients", null)).result();
        assertThat(ok.status()).as("a valid certificate gets in: " + ok).isEqualTo(200);
      }

      // Another CA issues a certificate naming a real client: an impersonation attempt.
      TestPki impostor = TestPki.newCa("impostor CA");
      KeyPair keys = TestPki.ec("secp256r1");
      TestPki.Issued forged =
          impostor.client(
              keys,
              valid.clientId(),
              Instant.now().minus(Duration.ofHours(1)),
              Instant.now().plus(Duration.ofDays(1)));
      try (TlsClient attacker =
          TlsClient.forcingCertificate(
              broker.vertx(),
              broker.port(),
              serverCa.caPem(),
              forged.certificatePem(),
              TestPki.privateKeyPem(keys))) {
        assertNoAccess(attacker.get("/v1/admin/clients", null), "another CA's certificate");
      }

      // The broker's own CA, but the certificate has expired: issued two hours ago for one hour.
      world.clock.set(Instant.now().minus(Duration.ofHours(2)));
      Till expired = enrol(broker, "ADMIN", null);
      world.clock.set(Instant.now());
      assertThat(TestPki.parseCertificate(expired.certificatePem()).getNotAfter().toInstant())
          .isBefore(Instant.now());
      try (TlsClient late =
          TlsClient.forcingCertificate(
              broker.vertx(),
              broker.port(),
              serverCa.caPem(),
              expired.certificatePem(),
              expired.keyPem())) {
        assertNoAccess(late.get("/v1/admin/clients", null), "an expired certificate");
      }
    }
  }

  @Test
  void tokensWorkUnderRequestAndAreRefusedUnderRequire() throws IOException {
    TestDatabase db = TestPostgres.newDatabase();
    Path kek = Files.createTempDirectory("rb-kek").resolve("shared.kek");
    String admin = Tokens.newToken();
    Till adminTill;
    try (TestBroker requesting = instance(db, kek, admin, "request")) {
      adminTill = enrol(requesting, "ADMIN", null);
      try (TlsClient anonymous =
          TlsClient.anonymous(requesting.vertx(), requesting.port(), serverCa.caPem())) {
        HttpResult withToken = Await.result(anonymous.get("/v1/admin/clients", admin)).result();
        assertThat(withToken.status())
            .as("request: a token without a certificate works: " + withToken)
            .isEqualTo(200);
        assertProblem(
            Await.result(anonymous.get("/v1/admin/clients", null)).result(), 401, "UNAUTHORIZED");
      }
      try (TlsClient both = client(requesting, adminTill)) {
        assertThat(Await.result(both.get("/v1/admin/clients", admin)).result().status())
            .as("request: a certificate and a token together work")
            .isEqualTo(200);
      }
    }

    try (TestBroker requiring = instance(db, kek, admin, "require")) {
      try (TlsClient anonymous =
          TlsClient.anonymous(requiring.vertx(), requiring.port(), serverCa.caPem())) {
        assertNoAccess(anonymous.get("/v1/admin/clients", admin), "a token without certificate");
      }
      try (TlsClient pos = client(requiring, adminTill)) {
        HttpResult byCertificate = Await.result(pos.get("/v1/admin/clients", null)).result();
        assertThat(byCertificate.status()).as(byCertificate.toString()).isEqualTo(200);
        HttpResult token = Await.result(pos.get("/v1/admin/clients", admin)).result();
        assertProblem(token, 401, "TOKEN_NOT_ACCEPTED");
        assertThat(BrokerContract.violations("GET", "/v1/admin/clients", null, token)).isEmpty();
      }
    }
  }

  private TestBroker instance(TestDatabase db, Path kek, String adminToken, String clientAuth) {
    return https(TestBroker.builder().database(db), clientAuth)
        .env("CREDENTIALS_BACKEND", "local")
        .env("LOCAL_KEK_FILE", kek.toString())
        .env("BROKER_ADMIN_TOKEN", adminToken)
        .start();
  }

  /**
   * The attempt got nowhere: the TLS handshake refused it (the answer never came) or the broker
   * answered 401. Never a 2xx, never another error.
   */
  private static void assertNoAccess(Future<Answer> attempt, String what) {
    Throwable failure =
        Await.failure(
            attempt.map(
                answer -> {
                  assertProblem(answer.result(), 401, "CLIENT_CERTIFICATE_REFUSED");
                  throw new RefusedBy401();
                }));
    if (failure instanceof RefusedBy401) {
      return;
    }
    assertThat(hasCause(failure, SSLHandshakeException.class))
        .as(what + " is refused by the TLS handshake, not: " + failure)
        .isTrue();
  }

  private static final class RefusedBy401 extends RuntimeException {
    RefusedBy401() {
      super("refused with 401", null, false, false);
    }
  }

  private static boolean hasCause(Throwable failure, Class<? extends Throwable> type) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static boolean verifies(X509Certificate certificate, X509Certificate ca) {
    try {
      certificate.verify(ca.getPublicKey());
      return true;
    } catch (Exception e) {
      return false;
    }
  }
}

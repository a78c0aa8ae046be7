package io.refundbroker.auth;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.BrokerContract;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Pem;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestPki;
import io.vertx.core.json.JsonObject;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Enrolment from certificate requests through {@code POST /v1/admin/clients}: what is refused (a
 * 400 problem naming why, and nothing written), what is accepted, and that every request and answer
 * — both variants of the request and of the 201, the 400 problems, the CA certificate — is
 * described by {@code openapi.yaml} exactly.
 */
class ClientEnrolmentIT {
  private static final String CLIENTS = "/v1/admin/clients";

  private static JsonObject enrolment(String role, String storeId, String csr) {
    JsonObject body = new JsonObject().put("name", "till").put("role", role).put("csr", csr);
    if (storeId != null) {
      body.put("storeId", storeId);
    }
    return body;
  }

  @Test
  void weakKeysBadSignaturesAndNonRequestsAre400ProblemsAndWriteNothing() {
    try (TestBroker broker = TestBroker.start()) {
      broker.createStore("oslo-1", "acme", "123456");
      KeyPair good = TestPki.ec("secp256r1");
      byte[] noise = new byte[300];
      new SecureRandom().nextBytes(noise);
      Map<String, String[]> cases = new LinkedHashMap<>();
      cases.put(
          "RSA 1024",
          new String[] {TestPki.csr(TestPki.rsa(1024), "till"), "CSR_WEAK_KEY", "1024 bits"});
      cases.put(
          "EC secp256k1 (not an accepted curve)",
          new String[] {TestPki.csr(TestPki.ec("secp256k1"), "till"), "CSR_WEAK_KEY", "curve"});
      cases.put(
          "signed by another key than it carries",
          new String[] {
            TestPki.csrSignedBy(good, TestPki.ec("secp256r1").getPrivate(), "till"),
            "CSR_BAD_SIGNATURE",
            "signature"
          });
      cases.put(
          "a PEM block of noise",
          new String[] {Pem.write("CERTIFICATE REQUEST", noise), "CSR_INVALID", "PKCS#10"});
      cases.put(
          "a certificate instead of a request",
          new String[] {
            TestPki.newCa("not a request").caPem(), "CSR_INVALID", "not a certificate request"
          });
      cases.put("not PEM at all", new String[] {"hello till", "CSR_INVALID", "no PEM block"});

      long clients = broker.database().queryLong("SELECT count(*) FROM api_clients");
      long events = broker.database().queryLong("SELECT count(*) FROM audit_events");
      for (Map.Entry<String, String[]> c : cases.entrySet()) {
        JsonObject body = enrolment("STORE", "oslo-1", c.getValue()[0]);
        HttpResult answer = broker.post(CLIENTS, broker.adminToken(), body);
        JsonObject problem = assertProblem(answer, 400, c.getValue()[1]);
        assertThat(problem.getString("detail")).as(c.getKey()).contains(c.getValue()[2]);
        assertThat(BrokerContract.violations("POST", CLIENTS, body, answer))
            .as(c.getKey() + ": request and 400 answer as the contract describes them")
            .isEmpty();
      }
      assertProblem(
          broker.post(
              CLIENTS, broker.adminToken(), enrolment("STORE", null, TestPki.csr(good, "till"))),
          400,
          "STORE_ID_REQUIRED");
      assertThat(broker.database().queryLong("SELECT count(*) FROM api_clients"))
          .as("no client written")
          .isEqualTo(clients);
      assertThat(broker.database().queryLong("SELECT count(*) FROM audit_events"))
          .as("no event written")
          .isEqualTo(events);
    }
  }

  @Test
  void acceptedKeysAreEnrolledAndEveryAnswerIsTheContracts() throws Exception {
    try (TestBroker broker =
        TestBroker.builder().env("BROKER_CLIENT_CERT_VALIDITY", "30d").start()) {
      broker.createStore("oslo-1", "acme", "123456");
      HttpResult caAnswer = broker.get("/v1/admin/ca.pem", broker.adminToken());
      assertThat(caAnswer.status()).isEqualTo(200);
      assertThat(caAnswer.header("Content-Type")).isEqualTo("application/x-pem-file");
      assertThat(BrokerContract.violations("GET", "/v1/admin/ca.pem", null, caAnswer)).isEmpty();
      X509Certificate ca = TestPki.parseCertificate(caAnswer.text());
      assertThat(ca.getBasicConstraints()).as("a CA certificate").isGreaterThanOrEqualTo(0);

      Map<String, KeyPair> keys = new LinkedHashMap<>();
      keys.put("RSA 2048", TestPki.rsa(2048));
      keys.put("EC P-256", TestPki.ec("secp256r1"));
      keys.put("EC P-384", TestPki.ec("secp384r1"));
      keys.put("EC P-521", TestPki.ec("secp521r1"));
      for (Map.Entry<String, KeyPair> k : keys.entrySet()) {
        JsonObject body = enrolment("STORE", "oslo-1", TestPki.csr(k.getValue(), "till"));
        HttpResult answer = broker.post(CLIENTS, broker.adminToken(), body);
        assertThat(answer.status()).as(k.getKey() + ": " + answer).isEqualTo(201);
        assertThat(BrokerContract.violations("POST", CLIENTS, body, answer))
            .as(k.getKey() + ": the certificate variant of the 201")
            .isEmpty();
        JsonObject withoutCertificate = answer.json().copy();
        withoutCertificate.remove("certificate");
        assertThat(
                BrokerContract.violations(
                    "POST",
                    CLIENTS,
                    body,
                    new HttpResult(201, answer.headers(), withoutCertificate.toBuffer())))
            .as("the contract check has teeth: a 201 without the certificate is not the contract's")
            .isNotEmpty();
        X509Certificate issued = TestPki.parseCertificate(answer.json().getString("certificate"));
        issued.verify(ca.getPublicKey());
        assertThat(issued.getPublicKey().getEncoded())
            .isEqualTo(k.getValue().getPublic().getEncoded());
        assertThat(issued.getNotAfter().toInstant())
            .as("BROKER_CLIENT_CERT_VALIDITY=30d")
            .isBetween(
                Instant.now().plus(Duration.ofDays(29)), Instant.now().plus(Duration.ofDays(31)));
        String clientId = answer.json().getString("clientId");
        assertThat(
                broker
                    .database()
                    .query(
                        "SELECT token_hash, cert_serial, encode(cert_fingerprint, 'hex') AS fp"
                            + " FROM api_clients WHERE client_id = ?",
                        clientId)
                    .get(0))
            .containsEntry("token_hash", null)
            .containsEntry("cert_serial", issued.getSerialNumber().toString(16))
            .containsEntry("fp", sha256Hex(issued.getEncoded()));
      }

      JsonObject tokenBody = new JsonObject().put("name", "auditor").put("role", "AUDITOR");
      HttpResult token = broker.post(CLIENTS, broker.adminToken(), tokenBody);
      assertThat(token.status()).isEqualTo(201);
      assertThat(BrokerContract.violations("POST", CLIENTS, tokenBody, token))
          .as("the token variant of the 201")
          .isEmpty();

      HttpResult listed = broker.get(CLIENTS, broker.adminToken());
      assertThat(BrokerContract.violations("GET", CLIENTS, null, listed)).isEmpty();
      assertThat(listed.json().getJsonArray("clients").stream().map(JsonObject.class::cast))
          .filteredOn(c -> "certificate".equals(c.getString("authentication")))
          .hasSize(keys.size());
      assertThat(
              broker
                  .database()
                  .queryLong(
                      "SELECT count(*) FROM audit_events WHERE action = 'client.issued'"
                          + " AND details->>'authentication' = 'certificate'"))
          .as("every enrolment is audited")
          .isEqualTo(keys.size());
    }
  }

  private static String sha256Hex(byte[] der) throws Exception {
    return java.util.HexFormat.of()
        .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(der));
  }
}

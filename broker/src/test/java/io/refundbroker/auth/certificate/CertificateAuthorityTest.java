package io.refundbroker.auth.certificate;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.error.ProblemException;
import io.refundbroker.testing.MutableClock;
import io.refundbroker.testing.TestPki;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The broker's client CA without a broker: which tills' requests it accepts (key types and sizes at
 * their bounds, proof of possession), and what it signs (names, key usage, validity capped at its
 * own expiry).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CertificateAuthorityTest {
  private static final Instant NOW = Instant.parse("2026-11-30T12:00:00.750Z");

  private final Vertx vertx = Vertx.vertx();
  private final MutableClock clock = new MutableClock(NOW);
  private WorkerExecutor worker;
  private Map<String, String> fields;
  private CertificateAuthority ca;
  private X509Certificate caCertificate;
  private KeyPair rsa2048;

  @BeforeAll
  void createTheCa() throws Exception {
    worker = vertx.createSharedWorkerExecutor("ca-test", 2);
    fields = await(CertificateAuthority.generate(worker, clock));
    ca = await(CertificateAuthority.fromFields(fields, worker, clock));
    caCertificate = TestPki.parseCertificate(ca.certificatePem());
    rsa2048 = TestPki.rsa(2048);
  }

  /** The key of a PKCS#8 PEM text (fails on any other kind of PEM). */
  private static PrivateKey pkcs8(String pem) throws Exception {
    String label = "PRIVATE KEY";
    String begin = "-----BEGIN " + label + "-----";
    String end = "-----END " + label + "-----";
    assertThat(pem.strip()).startsWith(begin).endsWith(end);
    String base64 =
        pem.strip()
            .substring(begin.length(), pem.strip().length() - end.length())
            .replaceAll("\\s", "");
    return KeyFactory.getInstance("EC")
        .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
  }

  @AfterAll
  void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void theCaIsAnEcCaForTwentyYearsThatSignsOnlyCertificates() throws Exception {
    assertThat(fields).containsOnlyKeys("privateKey", "certificate");
    // the stored key is PKCS#8 PEM and is the key of the CA's certificate
    PrivateKey key = pkcs8(fields.get("privateKey"));
    assertThat(key.getAlgorithm()).isEqualTo("EC");
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key);
    signer.update(new byte[] {1, 2, 3});
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(caCertificate.getPublicKey());
    verifier.update(new byte[] {1, 2, 3});
    assertThat(verifier.verify(signer.sign())).isTrue();
    assertThat(caCertificate.getBasicConstraints()).isEqualTo(0);
    assertThat(caCertificate.getKeyUsage()[5]).as("keyCertSign").isTrue();
    assertThat(caCertificate.getKeyUsage()[0]).as("digitalSignature").isFalse();
    assertThat(caCertificate.getNotBefore().toInstant())
        .isEqualTo(
            NOW.minus(Duration.ofMinutes(5)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    assertThat(caCertificate.getNotAfter().toInstant())
        .isEqualTo(
            NOW.plus(Duration.ofDays(20 * 365)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    caCertificate.verify(caCertificate.getPublicKey());
    assertThat(ca.toString())
        .startsWith("CertificateAuthority[")
        .contains("refund-broker client CA");
  }

  @Test
  void everyNewCaHasItsOwnNameAndAP256Key() throws Exception {
    CertificateAuthority other =
        await(
            CertificateAuthority.fromFields(
                await(CertificateAuthority.generate(worker, clock)), worker, clock));
    X509Certificate otherCertificate = TestPki.parseCertificate(other.certificatePem());
    assertThat(otherCertificate.getSubjectX500Principal())
        .isNotEqualTo(caCertificate.getSubjectX500Principal());
    assertThat(caCertificate.getSubjectX500Principal().getName())
        .matches("CN=refund-broker client CA [0-9a-f]{8},O=refund-broker")
        .doesNotContain("00000000");
    assertThat(
            ((java.security.interfaces.ECPublicKey) caCertificate.getPublicKey())
                .getParams()
                .getCurve()
                .getField()
                .getFieldSize())
        .isEqualTo(256);
  }

  @Test
  void acceptedKeysAreRsaFrom2048BitsAndTheThreeNistCurves() throws Exception {
    assertThat(check(TestPki.csr(rsa2048, "till")).keyDescription()).isEqualTo("RSA 2048");
    assertThat(check(TestPki.csr(TestPki.ec("secp256r1"), "till")).keyDescription())
        .isEqualTo("EC P-256");
    assertThat(check(TestPki.csr(TestPki.ec("secp384r1"), "till")).keyDescription())
        .isEqualTo("EC P-384");
    assertThat(check(TestPki.csr(TestPki.ec("secp521r1"), "till")).keyDescription())
        .isEqualTo("EC P-521");
  }

  @Test
  void shortRsaKeysAndOtherCurvesAreWeak() throws Exception {
    ProblemException rsa = refusal(TestPki.csr(TestPki.rsa(2047), "till"));
    assertThat(rsa.code()).isEqualTo(CertificateProblems.CSR_WEAK_KEY);
    assertThat(rsa.detail()).contains("an RSA key of 2047 bits is too short");
    ProblemException curve = refusal(TestPki.csr(TestPki.ec("secp256k1"), "till"));
    assertThat(curve.code()).isEqualTo(CertificateProblems.CSR_WEAK_KEY);
    assertThat(curve.detail()).contains("not on a named curve");
  }

  @Test
  void aRequestNotSignedByItsOwnKeyProvesNothing() throws Exception {
    KeyPair till = TestPki.ec("secp256r1");
    KeyPair other = TestPki.ec("secp256r1");
    ProblemException refused = refusal(TestPki.csrSignedBy(till, other.getPrivate(), "till"));
    assertThat(refused.status()).isEqualTo(400);
    assertThat(refused.code()).isEqualTo(CertificateProblems.CSR_BAD_SIGNATURE);
    assertThat(refusal(TestPki.csrSignedBy(rsa2048, other.getPrivate(), "t")).code())
        .isEqualTo(CertificateProblems.CSR_BAD_SIGNATURE);
  }

  @Test
  void anythingButAPemCertificateRequestIsInvalid() throws Exception {
    for (String text :
        List.of(
            "",
            "hello",
            "-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----\n",
            ca.certificatePem())) {
      ProblemException refused = refusal(text);
      assertThat(refused.status()).as(text).isEqualTo(400);
      assertThat(refused.code()).as(text).isEqualTo(CertificateProblems.CSR_INVALID);
    }
    assertThat(refusal("").detail()).contains("no PEM block found");
    assertThat(refusal(ca.certificatePem()).detail()).contains("not a certificate request");
  }

  @Test
  void aStoreClientsCertificateNamesClientRoleAndStoreForClientAuthenticationOnly()
      throws Exception {
    KeyPair till = TestPki.ec("secp256r1");
    CertificateRequest request = check(TestPki.csr(till, "whatever the till asked"));
    IssuedCertificate issued =
        await(ca.issue(request, "cl_till1", "STORE", "oslo", Duration.ofDays(30)));
    X509Certificate certificate = TestPki.parseCertificate(issued.pem());

    certificate.verify(caCertificate.getPublicKey());
    assertThat(certificate.getPublicKey()).isEqualTo(till.getPublic());
    assertThat(certificate.getSubjectX500Principal().getName())
        .isEqualTo("O=oslo,OU=STORE,CN=cl_till1");
    assertThat(certificate.getIssuerX500Principal())
        .isEqualTo(caCertificate.getSubjectX500Principal());
    assertThat(certificate.getBasicConstraints()).as("not a CA").isEqualTo(-1);
    assertThat(certificate.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
    boolean[] usage = certificate.getKeyUsage();
    assertThat(usage[0]).as("digitalSignature").isTrue();
    assertThat(usage[2]).as("keyEncipherment, for RSA only").isFalse();
    assertThat(certificate.getNotBefore().toInstant())
        .isEqualTo(Instant.parse("2026-11-30T11:55:00Z"));
    assertThat(certificate.getNotAfter().toInstant())
        .isEqualTo(Instant.parse("2026-12-30T12:00:00Z"));
    assertThat(issued.notBefore()).isEqualTo(certificate.getNotBefore().toInstant());
    assertThat(issued.notAfter()).isEqualTo(certificate.getNotAfter().toInstant());
    assertThat(issued.serialHex()).isEqualTo(certificate.getSerialNumber().toString(16));
    assertThat(certificate.getSerialNumber().signum()).isPositive();
    assertThat(issued.fingerprint())
        .isEqualTo(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()))
        .isEqualTo(CertificateAuthority.fingerprint(certificate.getEncoded()));
  }

  @Test
  void anRsaAdminCertificateHasNoStoreAndMayEncipherKeys() throws Exception {
    CertificateRequest request = check(TestPki.csr(rsa2048, "admin"));
    X509Certificate certificate =
        TestPki.parseCertificate(
            await(ca.issue(request, "cl_admin", "ADMIN", null, Duration.ofDays(1))).pem());
    assertThat(certificate.getSubjectX500Principal().getName()).isEqualTo("OU=ADMIN,CN=cl_admin");
    assertThat(certificate.getKeyUsage()[0]).isTrue();
    assertThat(certificate.getKeyUsage()[2]).isTrue();
  }

  @Test
  void noCertificateOutlivesTheCa() throws Exception {
    CertificateRequest request = check(TestPki.csr(TestPki.ec("secp256r1"), "till"));
    IssuedCertificate issued =
        await(ca.issue(request, "cl_long", "STORE", "oslo", Duration.ofDays(50 * 365)));
    assertThat(issued.notAfter()).isEqualTo(caCertificate.getNotAfter().toInstant());
    // exactly at the CA's expiry: kept
    Duration toExpiry = Duration.between(NOW, caCertificate.getNotAfter().toInstant());
    assertThat(await(ca.issue(request, "cl_edge", "STORE", "oslo", toExpiry)).notAfter())
        .isEqualTo(caCertificate.getNotAfter().toInstant());
    assertThat(
            await(ca.issue(request, "cl_short", "STORE", "oslo", toExpiry.minusSeconds(1)))
                .notAfter())
        .isEqualTo(caCertificate.getNotAfter().toInstant().minusSeconds(1));
  }

  @Test
  void storedFieldsThatAreNotACaAreRefused() throws Exception {
    Map<String, String> noKey = new HashMap<>(fields);
    noKey.remove("privateKey");
    assertThat(loadFailure(noKey)).isInstanceOf(IllegalStateException.class);
    Map<String, String> noCertificate = new HashMap<>(fields);
    noCertificate.remove("certificate");
    assertThat(loadFailure(noCertificate)).isInstanceOf(IllegalStateException.class);
    Map<String, String> wrongBlock = new HashMap<>(fields);
    wrongBlock.put("privateKey", fields.get("certificate"));
    assertThat(loadFailure(wrongBlock))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PRIVATE KEY");
    Map<String, String> empty = new HashMap<>(fields);
    empty.put("privateKey", "");
    assertThat(loadFailure(empty)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theReloadedCaIsTheSameCa() throws Exception {
    CertificateAuthority again = await(CertificateAuthority.fromFields(fields, worker, clock));
    assertThat(again.certificatePem()).isEqualTo(ca.certificatePem());
    X509Certificate issued =
        TestPki.parseCertificate(
            await(
                    again.issue(
                        check(TestPki.csr(TestPki.ec("secp256r1"), "t")),
                        "cl_x",
                        "AUDITOR",
                        null,
                        Duration.ofDays(1)))
                .pem());
    issued.verify(caCertificate.getPublicKey());
  }

  private CertificateRequest check(String csr) throws Exception {
    return await(ca.check(csr));
  }

  private ProblemException refusal(String csr) throws Exception {
    try {
      await(ca.check(csr));
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ProblemException.class);
      return (ProblemException) e.getCause();
    }
    throw new AssertionError("accepted: " + csr);
  }

  private Throwable loadFailure(Map<String, String> stored) throws Exception {
    try {
      await(CertificateAuthority.fromFields(stored, worker, clock));
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("loaded: " + stored.keySet());
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}

package io.refundbroker.auth.certificate;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * The broker's client-certificate authority: an EC P-256 key and a self-signed CA certificate,
 * created once and kept by the credential backend (Vault KV {@code broker/client-ca}, or
 * envelope-encrypted in {@code broker_secrets}). It checks PKCS#10 requests made on the tills and
 * issues short client certificates naming the client id; the tills' private keys never reach the
 * broker. Every BouncyCastle call runs on the bounded worker executor given at load, never on an
 * event loop.
 *
 * <p>Thread-safe: immutable after {@link #load}; {@link #toString()} never shows the key.
 */
public final class CertificateAuthority {
  /** The broker secret holding the CA (fields {@value #KEY_FIELD}, {@value #CERT_FIELD}). */
  public static final String SECRET_NAME = "client-ca";

  static final String KEY_FIELD = "privateKey";
  static final String CERT_FIELD = "certificate";
  private static final String SIGNATURE = "SHA256withECDSA";
  private static final Duration CA_VALIDITY = Duration.ofDays(20 * 365);
  private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
  private static final int MIN_RSA_BITS = 2048;
  private static final Set<ASN1ObjectIdentifier> CURVES =
      Set.of(
          X9ObjectIdentifiers.prime256v1,
          SECObjectIdentifiers.secp384r1,
          SECObjectIdentifiers.secp521r1);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final PrivateKey key;
  private final X509Certificate certificate;
  private final String certificatePem;
  private final WorkerExecutor worker;
  private final Clock clock;

  private CertificateAuthority(
      PrivateKey key, X509Certificate certificate, WorkerExecutor worker, Clock clock) {
    this.key = key;
    this.certificate = certificate;
    this.certificatePem = pem("CERTIFICATE", encoded(certificate));
    this.worker = worker;
    this.clock = clock;
  }

  /**
   * The CA stored as {@code fields} (from {@link #generate}), parsed on {@code worker}.
   *
   * @return fails with {@link IllegalStateException} when the stored fields are not a CA
   */
  public static Future<CertificateAuthority> fromFields(
      Map<String, String> fields, WorkerExecutor worker, Clock clock) {
    return worker.executeBlocking(() -> parse(fields, worker, clock), false);
  }

  /**
   * A new CA key and self-signed certificate as the fields to store (PEM {@code PRIVATE KEY} and
   * {@code CERTIFICATE}), made on {@code worker}.
   */
  public static Future<Map<String, String>> generate(WorkerExecutor worker, Clock clock) {
    return worker.executeBlocking(() -> newCa(clock), false);
  }

  /** The CA certificate (PEM), for the tills' trust stores and the TLS server's trust anchor. */
  public String certificatePem() {
    return certificatePem;
  }

  /**
   * Reads and checks a till's request.
   *
   * @return the request; fails with a 400 problem: {@code CSR_INVALID} (not a PEM PKCS#10 request),
   *     {@code CSR_WEAK_KEY} (RSA below 2048 bits, a curve other than P-256/384/521, any other key
   *     type) or {@code CSR_BAD_SIGNATURE}
   */
  public Future<CertificateRequest> check(String csrPem) {
    return worker.executeBlocking(() -> checkRequest(csrPem), false);
  }

  /**
   * Issues a client certificate for {@code request}'s key: subject {@code CN=<clientId>, OU=<role>}
   * (and {@code O=<storeId>} for a store's client), client authentication only, valid from five
   * minutes ago for {@code validity} (never beyond the CA's own expiry).
   */
  public Future<IssuedCertificate> issue(
      CertificateRequest request, String clientId, String role, String storeId, Duration validity) {
    return worker.executeBlocking(
        () -> issueNow(request, clientId, role, storeId, validity), false);
  }

  @Override
  public String toString() {
    return "CertificateAuthority[" + certificate.getSubjectX500Principal().getName() + "]";
  }

  private static CertificateAuthority parse(
      Map<String, String> fields, WorkerExecutor worker, Clock clock) throws Exception {
    String keyPem = fields.get(KEY_FIELD);
    String certPem = fields.get(CERT_FIELD);
    if (keyPem == null || certPem == null) {
      throw new IllegalStateException(
          "the stored broker secret " + SECRET_NAME + " lacks its key or certificate");
    }
    byte[] keyDer;
    try (PEMParser parser = new PEMParser(new StringReader(keyPem))) {
      PemObject block = parser.readPemObject();
      if (block == null || !block.getType().equals("PRIVATE KEY")) {
        throw new IllegalStateException("the stored CA key is not a PEM PRIVATE KEY block");
      }
      keyDer = block.getContent();
    }
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(keyDer));
    X509Certificate certificate =
        (X509Certificate)
            CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(certPem.getBytes()));
    return new CertificateAuthority(key, certificate, worker, clock);
  }

  private static Map<String, String> newCa(Clock clock) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    KeyPair pair = generator.generateKeyPair();
    byte[] id = new byte[4];
    RANDOM.nextBytes(id);
    X500Name subject =
        new X500NameBuilder(BCStyle.INSTANCE)
            .addRDN(BCStyle.O, "refund-broker")
            .addRDN(BCStyle.CN, "refund-broker client CA " + HexFormat.of().formatHex(id))
            .build();
    Instant now = clock.instant();
    JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
    JcaX509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            subject,
            serialNumber(),
            Date.from(now.minus(CLOCK_SKEW)),
            Date.from(now.plus(CA_VALIDITY)),
            subject,
            pair.getPublic());
    builder
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
        .addExtension(
            Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
        .addExtension(
            Extension.subjectKeyIdentifier,
            false,
            extensions.createSubjectKeyIdentifier(pair.getPublic()));
    X509CertificateHolder holder = builder.build(signer(pair.getPrivate()));
    return Map.of(
        KEY_FIELD,
        pem("PRIVATE KEY", pair.getPrivate().getEncoded()),
        CERT_FIELD,
        pem("CERTIFICATE", holder.getEncoded()));
  }

  private static CertificateRequest checkRequest(String csrPem) {
    PKCS10CertificationRequest csr = readRequest(csrPem);
    SubjectPublicKeyInfo info = csr.getSubjectPublicKeyInfo();
    String description = checkKey(info);
    PublicKey key;
    try {
      String algorithm = description.startsWith("RSA") ? "RSA" : "EC";
      key =
          KeyFactory.getInstance(algorithm)
              .generatePublic(new X509EncodedKeySpec(info.getEncoded()));
    } catch (GeneralSecurityException | IOException | RuntimeException e) {
      throw CertificateProblems.weakKey("the key cannot be read");
    }
    boolean signed;
    try {
      signed = csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key));
    } catch (PKCSException | OperatorCreationException | RuntimeException e) {
      signed = false;
    }
    if (!signed) {
      throw CertificateProblems.badSignature();
    }
    return new CertificateRequest(key, description);
  }

  private static PKCS10CertificationRequest readRequest(String csrPem) {
    try (PEMParser parser = new PEMParser(new StringReader(csrPem))) {
      Object object = parser.readObject();
      if (object instanceof PKCS10CertificationRequest csr) {
        return csr;
      }
      throw CertificateProblems.invalid(
          object == null ? "no PEM block found" : "the PEM block is not a certificate request");
    } catch (IOException | IllegalArgumentException | IllegalStateException e) {
      throw CertificateProblems.invalid("it cannot be decoded");
    }
  }

  /** A short description such as "RSA 3072" or "EC P-256"; fails with CSR_WEAK_KEY. */
  private static String checkKey(SubjectPublicKeyInfo info) {
    AlgorithmIdentifier algorithm = info.getAlgorithm();
    ASN1ObjectIdentifier type = algorithm.getAlgorithm();
    if (type.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      int bits;
      try {
        bits =
            org.bouncycastle.asn1.pkcs.RSAPublicKey.getInstance(info.parsePublicKey())
                .getModulus()
                .bitLength();
      } catch (IOException | RuntimeException e) {
        throw CertificateProblems.weakKey("the RSA key cannot be read");
      }
      if (bits < MIN_RSA_BITS) {
        throw CertificateProblems.weakKey("an RSA key of " + bits + " bits is too short");
      }
      return "RSA " + bits;
    }
    if (type.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      if (!(algorithm.getParameters() instanceof ASN1ObjectIdentifier curve)
          || !CURVES.contains(curve)) {
        throw CertificateProblems.weakKey(
            "the EC key is not on a named curve P-256, P-384 or P-521");
      }
      return "EC " + curveName(curve);
    }
    throw CertificateProblems.weakKey("keys of type " + type.getId() + " are not accepted");
  }

  private IssuedCertificate issueNow(
      CertificateRequest request, String clientId, String role, String storeId, Duration validity)
      throws Exception {
    X500NameBuilder name =
        new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, clientId).addRDN(BCStyle.OU, role);
    if (storeId != null) {
      name.addRDN(BCStyle.O, storeId);
    }
    Instant now = clock.instant();
    Instant notBefore = now.minus(CLOCK_SKEW);
    Instant notAfter = now.plus(validity);
    Instant caExpiry = certificate.getNotAfter().toInstant();
    if (notAfter.isAfter(caExpiry)) {
      notAfter = caExpiry;
    }
    // X.509 times have a resolution of one second.
    notBefore = notBefore.truncatedTo(ChronoUnit.SECONDS);
    notAfter = notAfter.truncatedTo(ChronoUnit.SECONDS);
    BigInteger serial = serialNumber();
    JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
    boolean rsa = request.publicKey().getAlgorithm().equals("RSA");
    JcaX509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            certificate,
            serial,
            Date.from(notBefore),
            Date.from(notAfter),
            name.build(),
            request.publicKey());
    builder
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
        .addExtension(
            Extension.keyUsage,
            true,
            new KeyUsage(
                rsa
                    ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment
                    : KeyUsage.digitalSignature))
        .addExtension(
            Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
        .addExtension(
            Extension.subjectKeyIdentifier,
            false,
            extensions.createSubjectKeyIdentifier(request.publicKey()))
        .addExtension(
            Extension.authorityKeyIdentifier,
            false,
            extensions.createAuthorityKeyIdentifier(certificate));
    byte[] der = builder.build(signer(key)).getEncoded();
    return new IssuedCertificate(
        pem("CERTIFICATE", der), serial.toString(16), fingerprint(der), notBefore, notAfter);
  }

  /** SHA-256 of a certificate's DER encoding: how the broker recognises a certificate. */
  public static byte[] fingerprint(byte[] der) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(der);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  /** A positive random serial of at most 128 bits (RFC 5280 allows 20 octets). */
  private static BigInteger serialNumber() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }

  private static ContentSigner signer(PrivateKey key) throws OperatorCreationException {
    return new JcaContentSignerBuilder(SIGNATURE).setSecureRandom(RANDOM).build(key);
  }

  private static String curveName(ASN1ObjectIdentifier curve) {
    if (curve.equals(X9ObjectIdentifiers.prime256v1)) {
      return "P-256";
    }
    return curve.equals(SECObjectIdentifiers.secp384r1) ? "P-384" : "P-521";
  }

  private static byte[] encoded(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the CA certificate cannot be encoded", e);
    }
  }

  static String pem(String type, byte[] der) {
    StringWriter text = new StringWriter();
    try (PemWriter writer = new PemWriter(text)) {
      writer.writeObject(new PemObject(type, der));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }
}

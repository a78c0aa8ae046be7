package io.refundbroker.testing;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Key material for TLS tests, all generated at run time: a test CA that issues server certificates
 * (for {@code 127.0.0.1}) and client certificates, tills' key pairs and their PKCS#10 requests
 * (good ones, weak ones, ones with a bad signature), and PEM files.
 */
public final class TestPki {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Provider BC = new BouncyCastleProvider();
  private static final AtomicLong SERIALS = new AtomicLong(System.nanoTime() & 0xffffffffL);

  private final KeyPair caKeys;
  private final X509Certificate caCertificate;

  /** A key and the certificate issued for it. */
  public record Issued(KeyPair keys, X509Certificate certificate) {
    public String certificatePem() {
      return TestPki.certificatePem(certificate);
    }

    public String keyPem() {
      return privateKeyPem(keys);
    }

    public String serialHex() {
      return certificate.getSerialNumber().toString(16);
    }
  }

  private TestPki(KeyPair caKeys, X509Certificate caCertificate) {
    this.caKeys = caKeys;
    this.caCertificate = caCertificate;
  }

  /** A new CA named {@code name}, valid for a day around now. */
  public static TestPki newCa(String name) {
    KeyPair keys = ec("secp256r1");
    X500Name subject = new X500Name("CN=" + name + ", O=refund-broker tests");
    Instant now = Instant.now();
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            subject,
            serial(),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(1))),
            subject,
            keys.getPublic());
    try {
      builder
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
          .addExtension(
              Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new TestPki(keys, sign(builder, keys.getPrivate()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String caPem() {
    return certificatePem(caCertificate);
  }

  /** A server certificate for 127.0.0.1 and localhost, valid for a day around now. */
  public Issued server(String commonName) {
    KeyPair keys = ec("secp256r1");
    Instant now = Instant.now();
    return issue(
        keys,
        "CN=" + commonName,
        now.minus(Duration.ofHours(1)),
        now.plus(Duration.ofDays(1)),
        KeyPurposeId.id_kp_serverAuth,
        new GeneralNames(
            new GeneralName[] {
              new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
              new GeneralName(GeneralName.dNSName, "localhost")
            }));
  }

  /** A client certificate for {@code keys}, valid from {@code notBefore} to {@code notAfter}. */
  public Issued client(KeyPair keys, String commonName, Instant notBefore, Instant notAfter) {
    return issue(
        keys, "CN=" + commonName, notBefore, notAfter, KeyPurposeId.id_kp_clientAuth, null);
  }

  private Issued issue(
      KeyPair keys,
      String subject,
      Instant notBefore,
      Instant notAfter,
      KeyPurposeId purpose,
      GeneralNames names) {
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            caCertificate,
            serial(),
            Date.from(notBefore),
            Date.from(notAfter),
            new X500Name(subject),
            keys.getPublic());
    try {
      builder
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
      if (names != null) {
        builder.addExtension(Extension.subjectAlternativeName, false, names);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Issued(keys, sign(builder, caKeys.getPrivate()));
  }

  /** An EC key pair on {@code curve} (BouncyCastle, so curves the JDK dropped work too). */
  public static KeyPair ec(String curve) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", BC);
      generator.initialize(new ECGenParameterSpec(curve), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An RSA key pair of {@code bits}. */
  public static KeyPair rsa(int bits) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(bits, RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A PEM PKCS#10 request for {@code keys}, signed with them (as {@code openssl req -new}). */
  public static String csr(KeyPair keys, String commonName) {
    return csrSignedBy(keys, keys.getPrivate(), commonName);
  }

  /**
   * A PEM PKCS#10 request carrying {@code keys}' public key but signed by {@code signer}: its
   * signature does not verify (no proof of possession).
   */
  public static String csrSignedBy(KeyPair keys, PrivateKey signer, String commonName) {
    PKCS10CertificationRequestBuilder builder =
        new JcaPKCS10CertificationRequestBuilder(
            new X500Name("CN=" + commonName), keys.getPublic());
    try {
      ContentSigner contentSigner =
          new JcaContentSignerBuilder(signatureAlgorithm(signer)).setProvider(BC).build(signer);
      return Pem.write("CERTIFICATE REQUEST", builder.build(contentSigner).getEncoded());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** PKCS#8 {@code PRIVATE KEY} PEM, as {@code openssl genpkey} writes it. */
  public static String privateKeyPem(KeyPair keys) {
    return Pem.write("PRIVATE KEY", keys.getPrivate().getEncoded());
  }

  public static String certificatePem(X509Certificate certificate) {
    try {
      return Pem.write("CERTIFICATE", certificate.getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses a PEM certificate (fails the test when it is not one). */
  public static X509Certificate parseCertificate(String pem) {
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(Pem.read(pem).getContent()));
    } catch (GeneralSecurityException e) {
      throw new AssertionError("not a certificate", e);
    }
  }

  /**
   * Writes {@code content} to {@code file} the way an operator replaces a file: a new file moved
   * over the old one, so a reader sees the old or the new content, never a mixture.
   */
  public static void replace(Path file, String content) {
    try {
      Path temporary = Files.createTempFile(file.getParent(), "replace", ".tmp");
      Files.writeString(temporary, content);
      Files.move(
          temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key) {
    try {
      byte[] der =
          builder
              .build(
                  new JcaContentSignerBuilder(signatureAlgorithm(key)).setProvider(BC).build(key))
              .getEncoded();
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(der));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String signatureAlgorithm(PrivateKey key) {
    return key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIALS.incrementAndGet())
        .shiftLeft(32)
        .add(BigInteger.valueOf(RANDOM.nextInt() & 0x7fffffff));
  }
}

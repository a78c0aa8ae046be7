package io.refundbroker.http;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.X509KeyManager;

/**
 * The API's HTTPS settings: TLS 1.2 and 1.3 only, AEAD cipher suites with forward secrecy, the
 * server's certificate chain and key (PEM, from {@code BROKER_TLS_CERT}/{@code BROKER_TLS_KEY}),
 * and — when clients may present certificates — the broker's client CA as the only trust anchor for
 * them. Immutable; a reload builds a new one.
 */
public final class ServerTls {
  /** The protocol versions offered; anything older fails the handshake. */
  public static final Set<String> PROTOCOLS = Set.of("TLSv1.2", "TLSv1.3");

  /** TLS 1.3 suites, then TLS 1.2 ECDHE suites with AES-GCM or ChaCha20-Poly1305. */
  public static final List<String> CIPHER_SUITES =
      List.of(
          "TLS_AES_128_GCM_SHA256",
          "TLS_AES_256_GCM_SHA384",
          "TLS_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  private static final List<String> KEY_TYPES = List.of("RSA", "EC", "EdDSA", "Ed25519");
  private static final long HANDSHAKE_TIMEOUT_SECONDS = 10;

  private final Buffer certificateChain;
  private final Buffer privateKey;
  private final Optional<Buffer> clientCa;
  private final ClientAuth clientAuth;
  private final byte[] digest;
  private final String description;

  private ServerTls(
      Buffer certificateChain,
      Buffer privateKey,
      Optional<Buffer> clientCa,
      ClientAuth clientAuth,
      String description) {
    this.certificateChain = certificateChain;
    this.privateKey = privateKey;
    this.clientCa = clientCa;
    this.clientAuth = clientAuth;
    this.digest = digest(certificateChain, privateKey);
    this.description = description;
  }

  /**
   * Reads the PEM files and checks them: the chain and key parse, the key belongs to the first
   * certificate, and that certificate is valid now. Blocking: call it on a worker.
   *
   * @param clientCaPem the CA whose certificates identify clients (required unless {@code
   *     clientAuth} is NONE)
   * @throws IllegalArgumentException naming BROKER_TLS_CERT/BROKER_TLS_KEY and what is wrong (never
   *     key material)
   */
  public static ServerTls read(
      Vertx vertx,
      Path certFile,
      Path keyFile,
      Optional<String> clientCaPem,
      ClientAuth clientAuth) {
    Buffer chain = readFile(certFile, "BROKER_TLS_CERT");
    Buffer key = readFile(keyFile, "BROKER_TLS_KEY");
    X509Certificate leaf = checkPair(vertx, chain, key);
    String description =
        "subject="
            + leaf.getSubjectX500Principal().getName()
            + " serial="
            + leaf.getSerialNumber().toString(16)
            + " notAfter="
            + leaf.getNotAfter().toInstant();
    return new ServerTls(chain, key, clientCaPem.map(Buffer::buffer), clientAuth, description);
  }

  /** SHA-256 over the certificate file's and the key file's bytes (to notice a change). */
  public static byte[] digest(Buffer certificateChain, Buffer privateKey) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(certificateChain.getBytes());
      sha.update((byte) 0);
      sha.update(privateKey.getBytes());
      return sha.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  /** The digest of the files this was read from. */
  public byte[] digest() {
    return digest.clone();
  }

  /** Subject, serial and expiry of the server certificate (for logs). */
  public String description() {
    return description;
  }

  /** Turns HTTPS on in {@code options} with these settings. */
  public void applyTo(HttpServerOptions options) {
    options
        .setSsl(true)
        .setKeyCertOptions(keyCert())
        .setEnabledSecureTransportProtocols(PROTOCOLS)
        .setClientAuth(clientAuth)
        .setSslHandshakeTimeout(HANDSHAKE_TIMEOUT_SECONDS)
        .setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
    CIPHER_SUITES.forEach(options::addEnabledCipherSuite);
    clientCa.ifPresent(ca -> options.setTrustOptions(new PemTrustOptions().addCertValue(ca)));
  }

  /** The same settings for {@code HttpServer.updateSSLOptions} (a reload). */
  public ServerSSLOptions sslOptions() {
    ServerSSLOptions options =
        new ServerSSLOptions()
            .setKeyCertOptions(keyCert())
            .setEnabledSecureTransportProtocols(PROTOCOLS)
            .setClientAuth(clientAuth)
            .setSslHandshakeTimeout(HANDSHAKE_TIMEOUT_SECONDS)
            .setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
    CIPHER_SUITES.forEach(options::addEnabledCipherSuite);
    clientCa.ifPresent(ca -> options.setTrustOptions(new PemTrustOptions().addCertValue(ca)));
    return options;
  }

  private PemKeyCertOptions keyCert() {
    return new PemKeyCertOptions().setCertValue(certificateChain).setKeyValue(privateKey);
  }

  private static Buffer readFile(Path file, String variable) {
    try {
      return Buffer.buffer(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new IllegalArgumentException(variable + ": cannot read " + file);
    }
  }

  /** The first certificate of the chain, after checking the key matches it and it is valid. */
  private static X509Certificate checkPair(Vertx vertx, Buffer chain, Buffer key) {
    X509KeyManager manager;
    try {
      KeyManager[] managers =
          new PemKeyCertOptions()
              .setCertValue(chain)
              .setKeyValue(key)
              .getKeyManagerFactory(vertx)
              .getKeyManagers();
      manager = (X509KeyManager) managers[0];
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "BROKER_TLS_CERT and BROKER_TLS_KEY must be a PEM certificate chain and its PEM private"
              + " key (PKCS#8, PKCS#1 RSA or SEC1 EC); they cannot be read as such");
    }
    for (String type : KEY_TYPES) {
      String[] aliases = manager.getServerAliases(type, null);
      if (aliases == null || aliases.length == 0) {
        continue;
      }
      X509Certificate[] certificates = manager.getCertificateChain(aliases[0]);
      PrivateKey privateKey = manager.getPrivateKey(aliases[0]);
      if (certificates == null || certificates.length == 0 || privateKey == null) {
        continue;
      }
      X509Certificate leaf = certificates[0];
      if (!matches(privateKey, leaf)) {
        throw new IllegalArgumentException(
            "BROKER_TLS_KEY does not belong to the first certificate in BROKER_TLS_CERT (replace"
                + " both files together)");
      }
      try {
        leaf.checkValidity();
      } catch (CertificateExpiredException e) {
        throw new IllegalArgumentException(
            "the certificate in BROKER_TLS_CERT expired at " + leaf.getNotAfter().toInstant());
      } catch (CertificateNotYetValidException e) {
        throw new IllegalArgumentException(
            "the certificate in BROKER_TLS_CERT is not valid before "
                + leaf.getNotBefore().toInstant());
      }
      return leaf;
    }
    throw new IllegalArgumentException(
        "BROKER_TLS_CERT and BROKER_TLS_KEY hold no RSA, EC or EdDSA key with its certificate");
  }

  /** Whether the key signs what the certificate's public key verifies. */
  private static boolean matches(PrivateKey key, X509Certificate certificate) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default -> key.getAlgorithm(); // EdDSA, Ed25519
        };
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}

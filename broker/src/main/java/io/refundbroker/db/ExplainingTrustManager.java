package io.refundbroker.db;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDK's PKIX trust manager over the certificates of one {@code sslrootcert} file (loaded as
 * pgjdbc loads it), which logs why it refuses a PostgreSQL server's certificate (wrong authority,
 * expired, host name not in it) before failing the handshake. The reactive client reports only "SSL
 * handshake failed" and drops that reason. Thread-safe: stateless around the JDK's manager.
 */
final class ExplainingTrustManager extends X509ExtendedTrustManager {
  private static final Logger LOG = LoggerFactory.getLogger(ExplainingTrustManager.class);

  private final X509ExtendedTrustManager delegate;
  private final String server;

  private ExplainingTrustManager(X509ExtendedTrustManager delegate, String server) {
    this.delegate = delegate;
    this.server = server;
  }

  /**
   * A trust manager for the CAs in {@code rootCertificate}, naming {@code server} in its log lines.
   * Blocking (reads the file).
   *
   * @throws IllegalStateException when the file cannot be read or holds no certificate
   */
  static TrustManager of(Path rootCertificate, String server) {
    try (InputStream in = Files.newInputStream(rootCertificate)) {
      Collection<? extends Certificate> certificates =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certificates.isEmpty()) {
        throw new IllegalStateException("no certificate in sslrootcert=" + rootCertificate);
      }
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (Certificate certificate : certificates) {
        store.setCertificateEntry("root-" + i++, certificate);
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
      factory.init(store);
      for (TrustManager manager : factory.getTrustManagers()) {
        if (manager instanceof X509ExtendedTrustManager x509) {
          return new ExplainingTrustManager(x509, server);
        }
      }
      throw new IllegalStateException("the JDK offers no X.509 trust manager");
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(
          "could not load sslrootcert=" + rootCertificate + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    try {
      delegate.checkServerTrusted(chain, authType, engine);
    } catch (CertificateException e) {
      throw refused(e);
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    try {
      delegate.checkServerTrusted(chain, authType, socket);
    } catch (CertificateException e) {
      throw refused(e);
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    try {
      delegate.checkServerTrusted(chain, authType);
    } catch (CertificateException e) {
      throw refused(e);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType, engine);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return delegate.getAcceptedIssuers();
  }

  private CertificateException refused(CertificateException e) {
    LOG.atWarn()
        .setMessage("refused the PostgreSQL server's TLS certificate")
        .addKeyValue("server", server)
        .addKeyValue("reason", e.getMessage())
        .log();
    return e;
  }
}

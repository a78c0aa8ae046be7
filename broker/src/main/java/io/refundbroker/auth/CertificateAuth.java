package io.refundbroker.auth;

import io.refundbroker.auth.certificate.CertificateAuthority;
import io.refundbroker.caller.Principal;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Client certificates: the TLS handshake has already proved that the client holds the key of a
 * certificate issued by the broker's CA and still valid (the CA is the server's only trust anchor
 * for client certificates). Here the certificate is matched, by the SHA-256 of its encoding, to the
 * client it was issued to, on every request and in the database, so a revocation on any instance
 * applies to the next request, as it does for a token.
 */
final class CertificateAuth {
  /** The 401 code for a certificate of the broker's CA that no active client holds. */
  static final String REFUSED = "CLIENT_CERTIFICATE_REFUSED";

  private final ClientService clients;

  CertificateAuth(ClientService clients) {
    this.clients = clients;
  }

  /** The leaf certificate the client presented on this request's connection, or null. */
  static X509Certificate presented(HttpServerRequest request) {
    HttpConnection connection = request.connection();
    if (connection == null || !connection.isSsl()) {
      return null;
    }
    try {
      List<Certificate> chain = connection.peerCertificates();
      if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate leaf)) {
        return null;
      }
      return leaf;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  /**
   * The principal the certificate was issued to.
   *
   * @return fails with 401 {@value #REFUSED} when no active client holds it (revoked, expired or
   *     never issued by this broker)
   */
  Future<Principal> authenticate(X509Certificate certificate) {
    byte[] fingerprint;
    try {
      fingerprint = CertificateAuthority.fingerprint(certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      return Future.failedFuture(refused());
    }
    return clients
        .authenticateCertificate(fingerprint)
        .compose(
            principal ->
                principal == null
                    ? Future.failedFuture(refused())
                    : Future.succeededFuture(principal));
  }

  private static ProblemException refused() {
    return new ProblemException(
        401,
        REFUSED,
        "Unauthorized",
        "The client certificate has been revoked or has expired, or this broker never issued it."
            + " Ask an admin to enrol the till again.");
  }
}

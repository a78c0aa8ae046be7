package io.refundbroker.db;

import io.refundbroker.config.DatabaseUrl;
import io.refundbroker.config.DatabaseUrl.TlsMode;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

/**
 * Gives the reactive pool the TLS behaviour pgjdbc gives Flyway for the same URL: {@code
 * allow}/{@code prefer}/{@code require} encrypt without checking the certificate, {@code verify-ca}
 * checks that it chains to {@code sslrootcert}, {@code verify-full} also checks that it names the
 * host (the JDK's HTTPS rules: DNS or IP subject alternative names). A refused certificate is
 * logged with its reason ({@link ExplainingTrustManager}).
 */
final class PgTls {
  /** The JDK's endpoint identification by host name, as for HTTPS. */
  private static final String CHECK_HOST_NAME = "HTTPS";

  private static final String NO_HOST_NAME_CHECK = "";

  private PgTls() {}

  /**
   * Sets the SSL mode and, unless it is {@code disable}, the SSL options on {@code options}.
   * Blocking for {@code verify-*} (reads {@code sslrootcert}).
   *
   * @throws IllegalStateException when {@code sslrootcert} cannot be loaded
   */
  static void apply(DatabaseUrl url, PgConnectOptions options) {
    TlsMode mode = url.tlsMode();
    options.setSslMode(sslMode(mode));
    if (mode == TlsMode.DISABLE) {
      return;
    }
    ClientSSLOptions ssl = new ClientSSLOptions();
    if (mode.verifiesCertificate()) {
      ssl.setTrustOptions(
          TrustOptions.wrap(
              ExplainingTrustManager.of(
                  url.rootCertificate().orElseThrow(), url.host() + ":" + url.port())));
      ssl.setHostnameVerificationAlgorithm(
          mode == TlsMode.VERIFY_FULL ? CHECK_HOST_NAME : NO_HOST_NAME_CHECK);
    } else {
      ssl.setTrustAll(true).setHostnameVerificationAlgorithm(NO_HOST_NAME_CHECK);
    }
    options.setSslOptions(ssl);
  }

  private static SslMode sslMode(TlsMode mode) {
    return switch (mode) {
      case DISABLE -> SslMode.DISABLE;
      case ALLOW -> SslMode.ALLOW;
      case PREFER -> SslMode.PREFER;
      case REQUIRE -> SslMode.REQUIRE;
      case VERIFY_CA -> SslMode.VERIFY_CA;
      case VERIFY_FULL -> SslMode.VERIFY_FULL;
    };
  }
}

package io.refundbroker.credential.vault;

import io.github.jopenlibs.vault.EnvironmentLoader;
import io.github.jopenlibs.vault.SslConfig;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.Secret;
import java.net.Socket;
import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * How every {@code vault-java-driver} instance of a session is configured (see {@code
 * notes/vault.md} §8): one shared {@link HttpClient} that trusts {@code VAULT_CACERT} (or nothing
 * but the JDK's CAs, or — {@code VAULT_SKIP_VERIFY=true}, development only — anything), its own
 * {@link VaultConfig} per driver instance, an {@link EnvironmentLoader} that returns nothing so
 * {@code VAULT_*} variables and {@code ~/.vault-token} are never read, timeouts always set.
 *
 * <p>Immutable and thread-safe (the {@link HttpClient} is).
 */
final class VaultDriverSettings {
  private final BrokerConfig.VaultConfig config;
  private final HttpClient http;

  private VaultDriverSettings(BrokerConfig.VaultConfig config, HttpClient http) {
    this.config = config;
    this.http = http;
  }

  /**
   * @throws IllegalStateException when {@code VAULT_CACERT} cannot be used (its message says why)
   */
  static VaultDriverSettings create(BrokerConfig.VaultConfig config) {
    try {
      return new VaultDriverSettings(config, httpClient(config));
    } catch (VaultException | GeneralSecurityException e) {
      throw new IllegalStateException("VAULT_CACERT cannot be used: " + firstLine(e), e);
    }
  }

  /**
   * The settings of one driver instance.
   *
   * @param token the token it sends, or {@code null} for an anonymous one ({@code sys/health},
   *     login)
   * @param engineVersion the KV engine version the driver speaks (1 for non-KV paths)
   * @param prefixDepth the KV mount's path depth, or 0
   */
  VaultConfig settings(Secret token, int engineVersion, int prefixDepth) {
    int seconds = (int) Math.max(1, config.timeout().toSeconds());
    VaultConfig vc =
        new VaultConfig()
            .environmentLoader(NoEnvironment.INSTANCE)
            .address(stripSlash(config.address().orElseThrow().toString()))
            .engineVersion(engineVersion)
            .openTimeout(seconds)
            .readTimeout(seconds)
            .httpClient(http);
    if (token != null) {
      vc.token(token.reveal());
    }
    if (prefixDepth > 0) {
      vc.prefixPathDepth(prefixDepth);
    }
    try {
      if (config.namespace().isPresent()) {
        vc.nameSpace(config.namespace().get());
      }
      return vc.build();
    } catch (VaultException e) {
      throw new IllegalStateException("Vault settings are unusable: " + firstLine(e), e);
    }
  }

  private static HttpClient httpClient(BrokerConfig.VaultConfig config)
      throws VaultException, GeneralSecurityException {
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(config.timeout())
            .followRedirects(HttpClient.Redirect.NEVER);
    if (config.skipVerify()) {
      SSLContext trustAll = SSLContext.getInstance("TLS");
      trustAll.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
      builder.sslContext(trustAll);
    } else if (config.caCert().isPresent()) {
      builder.sslContext(
          new QuietSslConfig()
              .verify(true)
              .pemFile(config.caCert().get().toFile())
              .build()
              .getSslContext());
    }
    return builder.build();
  }

  private static String firstLine(Exception e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  private static String stripSlash(String address) {
    return address.endsWith("/") ? address.substring(0, address.length() - 1) : address;
  }

  /** Never reads the process environment or {@code ~/.vault-token}: config comes from us only. */
  static final class NoEnvironment extends EnvironmentLoader {
    static final NoEnvironment INSTANCE = new NoEnvironment();

    @Override
    public String loadVariable(String name) {
      return null;
    }
  }

  /** An {@link SslConfig} that does not fall back to {@code VAULT_SSL_*} variables. */
  private static final class QuietSslConfig extends SslConfig {
    QuietSslConfig() {
      environmentLoader(NoEnvironment.INSTANCE);
    }
  }

  /** {@code VAULT_SKIP_VERIFY=true}: accepts any certificate and host name (development only). */
  private static final class TrustAll extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}

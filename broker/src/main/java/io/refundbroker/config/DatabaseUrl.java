package io.refundbroker.config;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed {@code postgresql://user:password@host:port/database?param=value} URL. The password is a
 * {@link Secret}; {@link #toString()} shows the URL without it.
 *
 * <p>TLS is set with the libpq/pgjdbc parameters {@code sslmode} ({@link TlsMode}; absent means
 * {@code prefer}, pgjdbc's default) and {@code sslrootcert} (the PEM file of the CA(s) the server
 * certificate must chain to; for {@code verify-ca}/{@code verify-full} it defaults, as in pgjdbc,
 * to {@code ~/.postgresql/root.crt}). The broker's two connections, Flyway over JDBC and the
 * reactive pool, read them the same way. Other {@code ssl*} parameters (client certificates, custom
 * factories) are refused: the reactive pool could not honour them.
 */
public record DatabaseUrl(
    String host,
    int port,
    String database,
    String user,
    Optional<Secret> password,
    Map<String, String> parameters) {

  /** The {@code sslmode} values, with pgjdbc's meaning. */
  public enum TlsMode {
    /** Plain TCP only. */
    DISABLE("disable"),
    /** Plain TCP; TLS (unverified) only if the server insists. */
    ALLOW("allow"),
    /** TLS (unverified) when the server offers it, else plain TCP. */
    PREFER("prefer"),
    /** TLS always; the certificate is not checked (encryption, no authentication). */
    REQUIRE("require"),
    /** TLS; the certificate must chain to {@code sslrootcert}. */
    VERIFY_CA("verify-ca"),
    /** TLS; the certificate must chain to {@code sslrootcert} and name the host. */
    VERIFY_FULL("verify-full");

    private final String parameter;

    TlsMode(String parameter) {
      this.parameter = parameter;
    }

    /** Whether the server certificate is checked against {@code sslrootcert}. */
    public boolean verifiesCertificate() {
      return this == VERIFY_CA || this == VERIFY_FULL;
    }

    static TlsMode of(String parameter) {
      for (TlsMode mode : values()) {
        if (mode.parameter.equals(parameter)) {
          return mode;
        }
      }
      throw new IllegalArgumentException(
          "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full (got '"
              + parameter
              + "')");
    }
  }

  private static final String SSLMODE = "sslmode";
  private static final String SSLROOTCERT = "sslrootcert";

  public DatabaseUrl {
    // in the order given, so the JDBC URL reads like the configured one
    parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
  }

  /** The TLS mode ({@code sslmode}; {@link TlsMode#PREFER} when absent, as in pgjdbc). */
  public TlsMode tlsMode() {
    String mode = parameters.get(SSLMODE);
    return mode == null ? TlsMode.PREFER : TlsMode.of(mode);
  }

  /**
   * The CA file the server certificate is checked against: {@code sslrootcert}, or pgjdbc's default
   * {@code ~/.postgresql/root.crt}; empty when {@link #tlsMode()} does not verify certificates.
   */
  public Optional<Path> rootCertificate() {
    if (!tlsMode().verifiesCertificate()) {
      return Optional.empty();
    }
    String configured = parameters.get(SSLROOTCERT);
    return Optional.of(configured != null ? Path.of(configured) : defaultRootCertificate());
  }

  /**
   * Parses a PostgreSQL URL.
   *
   * @throws IllegalArgumentException with a message safe to show (it never contains the password)
   */
  public static DatabaseUrl parse(String raw) {
    URI uri;
    try {
      uri = URI.create(raw.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "must look like postgresql://user:password@host:5432/database");
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equals("postgresql") || scheme.equals("postgres"))) {
      throw new IllegalArgumentException(
          "must start with postgresql:// (e.g. postgresql://user:password@host:5432/database)");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("must name a host (postgresql://user@host:5432/db)");
    }
    String path = uri.getPath() == null ? "" : uri.getPath();
    String database = path.startsWith("/") ? path.substring(1) : path;
    if (database.isEmpty()) {
      throw new IllegalArgumentException("must name a database (postgresql://user@host:5432/db)");
    }
    String userInfo = uri.getRawUserInfo();
    if (userInfo == null || userInfo.isEmpty()) {
      throw new IllegalArgumentException("must name a user (postgresql://user:password@host/db)");
    }
    int colon = userInfo.indexOf(':');
    String user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
    Optional<Secret> password =
        colon < 0
            ? Optional.empty()
            : Optional.of(Secret.of(decode(userInfo.substring(colon + 1))));
    Map<String, String> params = new LinkedHashMap<>();
    if (uri.getRawQuery() != null) {
      for (String pair : uri.getRawQuery().split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          params.put(decode(pair.substring(0, eq)), decode(pair.substring(eq + 1)));
        }
      }
    }
    int port = uri.getPort() < 0 ? 5432 : uri.getPort();
    DatabaseUrl url = new DatabaseUrl(uri.getHost(), port, database, user, password, params);
    url.checkTls();
    return url;
  }

  /**
   * Refuses TLS settings that the two connections would not treat alike, and a CA file that cannot
   * be used.
   */
  private void checkTls() {
    for (String name : parameters.keySet()) {
      if (name.toLowerCase(Locale.ROOT).startsWith("ssl")
          && !name.equals(SSLMODE)
          && !name.equals(SSLROOTCERT)) {
        throw new IllegalArgumentException(
            "parameter "
                + name
                + " is not supported (the TLS parameters are sslmode and sslrootcert)");
      }
    }
    TlsMode mode = tlsMode();
    if (parameters.containsKey(SSLROOTCERT) && !mode.verifiesCertificate()) {
      throw new IllegalArgumentException(
          "sslrootcert is only used with sslmode=verify-ca or verify-full (sslmode is "
              + mode.parameter
              + ": the server certificate would not be checked)");
    }
    rootCertificate().ifPresent(file -> checkRootCertificate(mode, file));
  }

  private static void checkRootCertificate(TlsMode mode, Path file) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(
          "sslmode="
              + mode.parameter
              + " needs the CA that signed the server certificate: sslrootcert="
              + file
              + " is not a readable file (set sslrootcert=/path/to/ca.pem)");
    }
    try (InputStream in = Files.newInputStream(file)) {
      if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
        throw new CertificateException("no certificate");
      }
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException(
          "sslrootcert=" + file + " holds no PEM certificate (" + e.getMessage() + ")");
    }
  }

  private static Path defaultRootCertificate() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (os.startsWith("windows") && System.getenv("APPDATA") != null) {
      return Path.of(System.getenv("APPDATA"), "postgresql", "root.crt");
    }
    return Path.of(System.getProperty("user.home"), ".postgresql", "root.crt");
  }

  /**
   * The JDBC URL (without credentials) for Flyway. A defaulted {@code sslrootcert} is written out,
   * so pgjdbc reads the very file the reactive pool trusts.
   */
  public String jdbcUrl() {
    StringBuilder url =
        new StringBuilder("jdbc:postgresql://")
            .append(host)
            .append(':')
            .append(port)
            .append('/')
            .append(database);
    Map<String, String> effective = new LinkedHashMap<>(parameters);
    rootCertificate().ifPresent(file -> effective.putIfAbsent(SSLROOTCERT, file.toString()));
    String sep = "?";
    for (Map.Entry<String, String> e : effective.entrySet()) {
      url.append(sep).append(encode(e.getKey())).append('=').append(encode(e.getValue()));
      sep = "&";
    }
    return url.toString();
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "postgresql://"
        + user
        + (password.isPresent() ? ":***" : "")
        + "@"
        + host
        + ":"
        + port
        + "/"
        + database;
  }
}

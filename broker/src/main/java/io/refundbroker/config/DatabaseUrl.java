package io.refundbroker.config;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed {@code postgresql://user:password@host:port/database?param=value} URL. The password is a
 * {@link Secret}; {@link #toString()} shows the URL without it.
 */
public record DatabaseUrl(
    String host,
    int port,
    String database,
    String user,
    Optional<Secret> password,
    Map<String, String> parameters) {

  public DatabaseUrl {
    parameters = Map.copyOf(parameters);
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
    return new DatabaseUrl(uri.getHost(), port, database, user, password, params);
  }

  /** The JDBC URL (without credentials) for Flyway. */
  public String jdbcUrl() {
    StringBuilder url =
        new StringBuilder("jdbc:postgresql://")
            .append(host)
            .append(':')
            .append(port)
            .append('/')
            .append(database);
    String sep = "?";
    for (Map.Entry<String, String> e : parameters.entrySet()) {
      url.append(sep).append(e.getKey()).append('=').append(e.getValue());
      sep = "&";
    }
    return url.toString();
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

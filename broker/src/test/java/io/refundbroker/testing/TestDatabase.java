package io.refundbroker.testing;

import io.refundbroker.config.DatabaseUrl;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A test's own database: {@link #appUrl()} connects as the broker's least-privilege role, {@link
 * #ownerUrl()} as the schema owner. JDBC helpers are for assertions in tests only.
 */
public record TestDatabase(
    DatabaseUrl appUrl, DatabaseUrl ownerUrl, String schemaVersion, String name) {

  /** A JDBC connection as the application role (what the broker can do). */
  public Connection appConnection() throws SQLException {
    return connect(appUrl);
  }

  /** A JDBC connection as the owner (to inspect or to play the insider who tampers). */
  public Connection ownerConnection() throws SQLException {
    return connect(ownerUrl);
  }

  /** A JDBC connection to {@code url} with its user and password (and {@code extra} properties). */
  public static Connection connect(DatabaseUrl url, Map<String, String> extra) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", url.user());
    url.password().ifPresent(p -> props.setProperty("password", p.reveal()));
    props.putAll(extra);
    return DriverManager.getConnection(url.jdbcUrl(), props);
  }

  /** A JDBC connection to {@code url} with its user and password. */
  public static Connection connect(DatabaseUrl url) throws SQLException {
    return connect(url, Map.of());
  }

  /**
   * {@code url} as a {@code DATABASE_URL} value, password included (for a broker started from
   * environment variables).
   */
  public static String environmentValue(DatabaseUrl url) {
    StringBuilder value = new StringBuilder("postgresql://").append(encode(url.user()));
    url.password().ifPresent(p -> value.append(':').append(encode(p.reveal())));
    value.append('@').append(url.host()).append(':').append(url.port()).append('/');
    value.append(encode(url.database()));
    String separator = "?";
    for (Map.Entry<String, String> parameter : url.parameters().entrySet()) {
      value.append(separator).append(encode(parameter.getKey())).append('=');
      value.append(encode(parameter.getValue()));
      separator = "&";
    }
    return value.toString();
  }

  private static String encode(String part) {
    return URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** Runs a query as the owner and returns its rows as column→value maps. */
  public List<Map<String, Object>> query(String sql, Object... params) {
    try (Connection c = ownerConnection();
        var statement = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        statement.setObject(i + 1, params[i]);
      }
      try (var rs = statement.executeQuery()) {
        return rows(rs);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  /** The remaining rows of {@code rs} as column→value maps. */
  public static List<Map<String, Object>> rows(ResultSet rs) throws SQLException {
    List<Map<String, Object>> rows = new ArrayList<>();
    int columns = rs.getMetaData().getColumnCount();
    while (rs.next()) {
      Map<String, Object> row = new LinkedHashMap<>();
      for (int i = 1; i <= columns; i++) {
        row.put(rs.getMetaData().getColumnLabel(i), rs.getObject(i));
      }
      rows.add(row);
    }
    return rows;
  }

  /** A single long from a query as the owner (e.g. a count). */
  public long queryLong(String sql, Object... params) {
    Object value = query(sql, params).get(0).values().iterator().next();
    return ((Number) value).longValue();
  }
}

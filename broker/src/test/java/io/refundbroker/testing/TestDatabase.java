package io.refundbroker.testing;

import io.refundbroker.config.DatabaseUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A test's own database: {@link #appUrl()} connects as the broker's least-privilege role, {@link
 * #ownerUrl()} as the schema owner. JDBC helpers are for assertions in tests only.
 */
public record TestDatabase(
    DatabaseUrl appUrl, DatabaseUrl ownerUrl, String schemaVersion, String name) {

  /** A JDBC connection as the application role (what the broker can do). */
  public Connection appConnection() throws SQLException {
    return DriverManager.getConnection(appUrl.jdbcUrl(), appUrl.user(), null);
  }

  /** A JDBC connection as the owner (to inspect or to play the insider who tampers). */
  public Connection ownerConnection() throws SQLException {
    return DriverManager.getConnection(ownerUrl.jdbcUrl(), ownerUrl.user(), null);
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

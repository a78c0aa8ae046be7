package io.refundbroker.db;

import io.refundbroker.config.DatabaseUrl;
import io.refundbroker.config.Secret;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the Flyway migrations from {@code migrations/} (classpath {@code db/migration}) with the
 * PostgreSQL JDBC driver. JDBC is used for this and nothing else; the running broker talks to
 * PostgreSQL through the reactive client.
 */
public final class Migrations {
  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {}

  /**
   * Migrates the database as its owner and grants the broker's login role membership of {@code
   * refund_broker_app}. Blocking.
   *
   * @return the schema version now in place (e.g. {@code "1"})
   */
  public static String migrate(DatabaseUrl owner, String appUser) {
    Flyway flyway =
        Flyway.configure()
            .dataSource(
                owner.jdbcUrl(), owner.user(), owner.password().map(Secret::reveal).orElse(null))
            .locations("classpath:db/migration")
            .cleanDisabled(true)
            .validateMigrationNaming(true)
            .load();
    MigrateResult result = flyway.migrate();
    String version = flyway.info().current().getVersion().getVersion();
    LOG.atInfo()
        .setMessage("database schema ready")
        .addKeyValue("applied", result.migrationsExecuted)
        .addKeyValue("version", version)
        .log();
    if (appUser != null && !appUser.equals(owner.user())) {
      grantAppRole(owner, appUser);
    }
    return version;
  }

  private static void grantAppRole(DatabaseUrl owner, String appUser) {
    Properties props = new Properties();
    props.setProperty("user", owner.user());
    owner.password().ifPresent(p -> props.setProperty("password", p.reveal()));
    try (Connection c = DriverManager.getConnection(owner.jdbcUrl(), props);
        PreparedStatement check =
            c.prepareStatement("SELECT pg_has_role(?, 'refund_broker_app', 'MEMBER')")) {
      check.setString(1, appUser);
      try (ResultSet rs = check.executeQuery()) {
        if (rs.next() && rs.getBoolean(1)) {
          return;
        }
      }
      try (var s = c.createStatement()) {
        s.execute("GRANT refund_broker_app TO \"" + appUser.replace("\"", "\"\"") + "\"");
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "could not grant refund_broker_app to " + appUser + ": " + e.getMessage(), e);
    }
  }
}

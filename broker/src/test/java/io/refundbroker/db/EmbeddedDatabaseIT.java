package io.refundbroker.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refundbroker.config.DatabaseUrl;
import io.refundbroker.config.Secret;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded PostgreSQL is durable (a commit survives a power loss) and locked (no login without
 * the role's password, loopback TCP only), for the broker and for the test suite's shared cluster
 * alike, and its password files survive restarts and upgrade a cluster of an older version.
 */
class EmbeddedDatabaseIT {
  @TempDir Path dir;

  @Test
  void theRunningClusterCommitsDurably() {
    TestDatabase db = TestPostgres.newDatabase();
    Vertx vertx = Vertx.vertx();
    Database database = Database.connect(vertx, db.appUrl(), 1, db.schemaVersion());
    try {
      // asked through the broker's own pool, as the broker's own role: what its commits get
      for (String setting : List.of("fsync", "synchronous_commit", "full_page_writes")) {
        Row row =
            Await.result(database.pool().query("SHOW " + setting).execute()).iterator().next();
        assertThat(row.getString(0)).as(setting).isEqualTo("on");
      }
    } finally {
      Await.result(database.close());
      Await.result(vertx.close());
    }
  }

  @Test
  void noLoginWithoutTheRolesPassword() throws SQLException {
    TestDatabase db = TestPostgres.newDatabase();
    for (DatabaseUrl url : List.of(db.ownerUrl(), db.appUrl())) {
      assertRefused(url, Optional.empty());
      assertRefused(url, Optional.of("not-the-password"));
      try (Connection c = TestDatabase.connect(url)) {
        assertThat(c.isValid(5)).as(url.user() + " with its password").isTrue();
      }
    }
  }

  @Test
  void listensOnLoopbackOnlyAndTrustsNobody() throws SQLException {
    TestDatabase db = TestPostgres.newDatabase();
    assertThat(db.query("SHOW listen_addresses").get(0)).containsValue("127.0.0.1");
    assertThat(db.query("SHOW unix_socket_directories").get(0)).containsValue("");
    // the rules the server has loaded, not just the file
    List<Map<String, Object>> rules =
        db.query("SELECT type, address, auth_method FROM pg_hba_file_rules");
    assertThat(rules)
        .singleElement()
        .satisfies(
            rule -> {
              assertThat(rule.get("type")).isEqualTo("host");
              assertThat(rule.get("address")).isEqualTo("127.0.0.1");
              assertThat(rule.get("auth_method")).isEqualTo("scram-sha-256");
            });
  }

  @Test
  void passwordFilesAreTheOwnersAloneSurviveRestartsAndAreReplacedWhenExposed() throws Exception {
    Path cluster = dir.resolve("postgres");
    Path superuserFile = cluster.resolve("postgres.password");
    Path appFile = cluster.resolve("refund_broker.password");

    try (LogCapture log = LogCapture.atTrace()) {
      String superuserPassword;
      String appPassword;
      try (EmbeddedDatabase db = EmbeddedDatabase.start(cluster)) {
        assertOwnerOnly(superuserFile);
        assertOwnerOnly(appFile);
        superuserPassword = Files.readString(superuserFile).strip();
        appPassword = Files.readString(appFile).strip();
        assertThat(superuserPassword).hasSizeGreaterThanOrEqualTo(40).isNotEqualTo(appPassword);
        assertThat(Files.readString(cluster.resolve("pg_hba.conf"))).doesNotContain("trust");
        execute(db.ownerUrl(EmbeddedDatabase.DATABASE), "CREATE TABLE kept (v text)");
        execute(db.ownerUrl(EmbeddedDatabase.DATABASE), "INSERT INTO kept VALUES ('first')");
      }

      try (EmbeddedDatabase db = EmbeddedDatabase.start(cluster)) {
        assertThat(Files.readString(superuserFile).strip()).isEqualTo(superuserPassword);
        assertThat(Files.readString(appFile).strip()).isEqualTo(appPassword);
        assertThat(db.appUrl("x").password().map(Secret::reveal)).contains(appPassword);
        assertThat(query(db.ownerUrl(EmbeddedDatabase.DATABASE), "SELECT v FROM kept"))
            .isEqualTo("first");
        assertRefused(db.ownerUrl("postgres"), Optional.empty());
      }

      Files.setPosixFilePermissions(superuserFile, PosixFilePermissions.fromString("rw-r--r--"));
      String replaced;
      try (EmbeddedDatabase db = EmbeddedDatabase.start(cluster)) {
        assertOwnerOnly(superuserFile);
        replaced = Files.readString(superuserFile).strip();
        assertThat(replaced).isNotEqualTo(superuserPassword);
        assertRefused(db.ownerUrl("postgres"), Optional.of(superuserPassword));
        assertThat(query(db.ownerUrl(EmbeddedDatabase.DATABASE), "SELECT v FROM kept"))
            .isEqualTo("first");
      }

      // three starts, one password set in single-user mode: none reached a log line
      assertThat(log.text()).contains("setting a new superuser password");
      for (String password : List.of(superuserPassword, appPassword, replaced)) {
        assertThat(log.text()).doesNotContain(password);
      }
    }
  }

  @Test
  void aTrustClusterOfAnOlderVersionIsUpgradedInPlace() throws Exception {
    Path cluster = dir.resolve("postgres");
    // what the broker used to make: zonky's defaults, trust on loopback, no passwords at all
    try (EmbeddedPostgres old =
        EmbeddedPostgres.builder()
            .setDataDirectory(cluster)
            .setCleanDataDirectory(false)
            .setPGStartupWait(Duration.ofSeconds(60))
            .start()) {
      try (Connection c = old.getPostgresDatabase().getConnection();
          Statement s = c.createStatement()) {
        s.execute("CREATE ROLE refund_broker LOGIN");
        s.execute("CREATE DATABASE refund_broker");
      }
      try (Connection c = old.getDatabase("postgres", "refund_broker").getConnection();
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE kept (v text)");
        s.execute("INSERT INTO kept VALUES ('from the trust era')");
      }
    }
    assertThat(Files.readString(cluster.resolve("pg_hba.conf"))).contains("trust");

    try (EmbeddedDatabase db = EmbeddedDatabase.start(cluster)) {
      assertThat(Files.readString(cluster.resolve("pg_hba.conf"), StandardCharsets.UTF_8))
          .doesNotContain("trust");
      assertOwnerOnly(cluster.resolve("postgres.password"));
      assertOwnerOnly(cluster.resolve("refund_broker.password"));
      assertRefused(db.ownerUrl(EmbeddedDatabase.DATABASE), Optional.empty());
      assertRefused(db.appUrl(EmbeddedDatabase.DATABASE), Optional.empty());
      assertThat(query(db.ownerUrl(EmbeddedDatabase.DATABASE), "SELECT v FROM kept"))
          .isEqualTo("from the trust era");
      try (Connection c = TestDatabase.connect(db.appUrl(EmbeddedDatabase.DATABASE))) {
        assertThat(c.isValid(5)).isTrue();
      }
      assertThat(query(db.ownerUrl("postgres"), "SHOW fsync")).isEqualTo("on");
    }
  }

  private static void assertRefused(DatabaseUrl url, Optional<String> password) {
    Properties props = new Properties();
    props.setProperty("user", url.user());
    password.ifPresent(p -> props.setProperty("password", p));
    assertThatThrownBy(() -> DriverManager.getConnection(url.jdbcUrl(), props).close())
        .as(url.user() + (password.isPresent() ? " with a wrong password" : " without password"))
        .isInstanceOf(SQLException.class)
        .satisfies(
            e -> {
              String state = ((SQLException) e).getSQLState();
              // 28P01: the server refused the password; 08004: the driver had none to send
              assertThat(state).isIn("28P01", "08004");
            });
  }

  private static void assertOwnerOnly(Path file) throws Exception {
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .as(file.toString())
        .isEqualTo("rw-------");
  }

  private static void execute(DatabaseUrl url, String sql) throws SQLException {
    try (Connection c = TestDatabase.connect(url);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static String query(DatabaseUrl url, String sql) throws SQLException {
    try (Connection c = TestDatabase.connect(url);
        Statement s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}

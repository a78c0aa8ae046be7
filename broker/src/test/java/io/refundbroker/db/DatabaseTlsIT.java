package io.refundbroker.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refundbroker.config.DatabaseUrl;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS to an external PostgreSQL: the reactive pool the broker runs on honours {@code sslmode} and
 * {@code sslrootcert} in {@code DATABASE_URL} exactly as pgjdbc does for the Flyway migrations.
 * Every case is tried through both and must end alike. The server is a real PostgreSQL with {@code
 * ssl=on} and a certificate from a CA made by the test.
 */
class DatabaseTlsIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String ENCRYPTED =
      "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

  private static Path dir;
  private static EmbeddedDatabase server;
  private static Vertx vertx;
  private static TestCertificates authority;
  private static Path rootCert;
  private static Path otherRootCert;

  @BeforeAll
  static void startServerWithTls() throws Exception {
    dir = Files.createTempDirectory("rb-tls");
    server = EmbeddedDatabase.start(dir.resolve("pg"));
    vertx = Vertx.vertx();
    authority = TestCertificates.authority("refund-broker test CA");
    rootCert = Files.writeString(dir.resolve("root.pem"), authority.certificatePem());
    otherRootCert =
        Files.writeString(
            dir.resolve("other-root.pem"),
            TestCertificates.authority("someone else's CA").certificatePem());
    serve("for-ip", authority.serverForIp("127.0.0.1"));
  }

  @AfterAll
  static void stop() throws IOException {
    if (vertx != null) {
      Await.result(vertx.close());
    }
    if (server != null) {
      server.close();
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @AfterEach
  void servesTheIpCertificateAgain() throws Exception {
    serve("for-ip", authority.serverForIp("127.0.0.1"));
  }

  @Test
  void verifyFullConnectsWhenTheCertificateChainsToTheRootAndNamesTheHost() {
    DatabaseUrl url = url("sslmode=verify-full&sslrootcert=" + rootCert);
    assertThat(throughPool(url)).isEqualTo("true");
    assertThat(throughJdbc(url)).isEqualTo("true");
  }

  @Test
  void requireEncryptsWithoutCheckingTheCertificate() {
    DatabaseUrl url = url("sslmode=require");
    assertThat(throughPool(url)).isEqualTo("true");
    assertThat(throughJdbc(url)).isEqualTo("true");
  }

  @Test
  void withoutSslmodeBothPreferTlsAndDisableTurnsItOff() {
    assertThat(throughPool(url(""))).isEqualTo("true");
    assertThat(throughJdbc(url(""))).isEqualTo("true");
    assertThat(throughPool(url("sslmode=disable"))).isEqualTo("false");
    assertThat(throughJdbc(url("sslmode=disable"))).isEqualTo("false");
  }

  @Test
  void aCertificateFromAnotherAuthorityIsRefused() {
    for (String mode : new String[] {"verify-full", "verify-ca"}) {
      DatabaseUrl url = url("sslmode=" + mode + "&sslrootcert=" + otherRootCert);
      assertThat(poolRefusal(url)).as(mode).contains("unable to find valid certification path");
      assertThatThrownBy(() -> throughJdbc(url))
          .as(mode)
          .hasStackTraceContaining("unable to find valid certification path");
    }
  }

  @Test
  void aCertificateForAnotherHostIsRefusedUnderVerifyFullOnly() throws Exception {
    serve("for-name", authority.serverForHost("db.example.invalid"));
    DatabaseUrl full = url("sslmode=verify-full&sslrootcert=" + rootCert);
    assertThat(poolRefusal(full)).contains("No subject alternative names matching IP address");
    assertThatThrownBy(() -> throughJdbc(full))
        .hasStackTraceContaining("The hostname 127.0.0.1 could not be verified");

    DatabaseUrl ca = url("sslmode=verify-ca&sslrootcert=" + rootCert);
    assertThat(throughPool(ca)).isEqualTo("true");
    assertThat(throughJdbc(ca)).isEqualTo("true");
  }

  /** {@code DATABASE_URL} of the broker's role on the test server, parsed like the real one. */
  private static DatabaseUrl url(String query) {
    DatabaseUrl app = server.appUrl(EmbeddedDatabase.DATABASE);
    String value =
        TestDatabase.environmentValue(
            new DatabaseUrl(
                app.host(),
                app.port(),
                app.database(),
                app.user(),
                app.password(),
                java.util.Map.of()));
    return DatabaseUrl.parse(value + (query.isEmpty() ? "" : "?" + query));
  }

  /** Whether the session is encrypted, asked through the broker's reactive pool. */
  private static String throughPool(DatabaseUrl url) {
    Database database = Database.connect(vertx, url, 1, "1");
    try {
      return Await.result(database.pool().query(ENCRYPTED).execute())
          .iterator()
          .next()
          .getString(0);
    } finally {
      Await.result(database.close());
    }
  }

  /**
   * The pool's failure to connect: a handshake failure (never an NPE as before); the reactive
   * client drops the reason, so it is read from the warning the broker logs.
   *
   * @return that warning
   */
  private static String poolRefusal(DatabaseUrl url) {
    Database database = Database.connect(vertx, url, 1, "1");
    try (LogCapture log = LogCapture.atTrace()) {
      Throwable failure = Await.failure(database.pool().query(ENCRYPTED).execute());
      assertThat(failure).isInstanceOf(VertxException.class).hasMessage("SSL handshake failed");
      return Poll.value(
          "the reason logged",
          WAIT,
          () ->
              log.text()
                  .lines()
                  .filter(line -> line.contains("refused the PostgreSQL server's TLS certificate"))
                  .filter(line -> line.contains("server=127.0.0.1:" + server.port()))
                  .findFirst()
                  .orElse(null));
    } finally {
      Await.result(database.close());
    }
  }

  /** Whether the session is encrypted, asked over JDBC as Flyway connects. */
  private static String throughJdbc(DatabaseUrl url) {
    try (Connection c = TestDatabase.connect(url);
        Statement s = c.createStatement();
        var rs = s.executeQuery(ENCRYPTED)) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Makes the server present {@code issued} (files named after {@code name}) and waits until new
   * sessions see the reloaded configuration.
   */
  private static void serve(String name, TestCertificates.Issued issued) throws Exception {
    Path cert = server.dataDir().resolve(name + ".crt");
    Path key = server.dataDir().resolve(name + ".key");
    Files.writeString(cert, issued.certificatePem());
    Files.writeString(key, issued.privateKeyPem());
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    DatabaseUrl owner = server.ownerUrl("postgres");
    try (Connection c = TestDatabase.connect(owner);
        Statement s = c.createStatement()) {
      s.execute("ALTER SYSTEM SET ssl_cert_file = '" + cert + "'");
      s.execute("ALTER SYSTEM SET ssl_key_file = '" + key + "'");
      s.execute("ALTER SYSTEM SET ssl = on");
      s.execute("SELECT pg_reload_conf()");
    }
    Poll.until(
        "the server serves " + name,
        WAIT,
        () -> {
          try (Connection c = TestDatabase.connect(owner);
              Statement s = c.createStatement();
              var rs = s.executeQuery("SHOW ssl_cert_file")) {
            rs.next();
            return rs.getString(1).equals(cert.toString());
          } catch (SQLException e) {
            return false;
          }
        });
  }
}

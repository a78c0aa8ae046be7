package io.refundbroker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerConfigTest {

  private static BrokerConfig parse(String... keyValues) {
    Map<String, String> env = new HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      env.put(keyValues[i], keyValues[i + 1]);
    }
    return BrokerConfig.fromEnvironment(env);
  }

  private static ConfigException failure(String... keyValues) {
    try {
      parse(keyValues);
    } catch (ConfigException e) {
      return e;
    }
    throw new AssertionError("expected a ConfigException");
  }

  @Test
  void emptyEnvironmentGivesEmbeddedDefaults() {
    BrokerConfig config = parse();
    assertThat(config.http().port()).isEqualTo(8080);
    assertThat(config.dataDir()).isEqualTo(Path.of("data"));
    assertThat(config.database().embedded()).isTrue();
    assertThat(config.credentials().backend()).isEqualTo(BrokerConfig.CredentialsBackend.LOCAL);
    assertThat(config.credentials().localKeyFile()).isEqualTo(Path.of("data", "credentials.kek"));
    assertThat(config.vipps().baseUrl().toString()).isEqualTo("https://apitest.vipps.no");
    assertThat(config.vipps().connectTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(config.vipps().readTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.http().adminToken()).isEmpty();
  }

  @Test
  void theAuditSequencerRunsEveryFewMillisecondsAndItsTestHookIsOffByDefault() {
    BrokerConfig defaults = parse();
    assertThat(defaults.audit().sequencerInterval()).isEqualTo(Duration.ofMillis(5));
    assertThat(defaults.audit().sequencerTestPause()).isEmpty();
    BrokerConfig set =
        parse("AUDIT_SEQUENCER_INTERVAL", "20ms", "AUDIT_SEQUENCER_TEST_PAUSE", "store.created");
    assertThat(set.audit().sequencerInterval()).isEqualTo(Duration.ofMillis(20));
    assertThat(set.audit().sequencerTestPause()).contains("store.created");
    assertThat(failure("AUDIT_SEQUENCER_INTERVAL", "0ms").problems())
        .singleElement()
        .asString()
        .startsWith("AUDIT_SEQUENCER_INTERVAL ");
    assertThat(failure("AUDIT_SEQUENCER_INTERVAL", "a minute").problems())
        .singleElement()
        .asString()
        .startsWith("AUDIT_SEQUENCER_INTERVAL ");
    assertThat(failure("AUDIT_SEQUENCER_TEST_PAUSE", "Store Created!").problems())
        .singleElement()
        .asString()
        .startsWith("AUDIT_SEQUENCER_TEST_PAUSE ")
        .contains("tests only");
  }

  @Test
  void badPortNamesTheVariableAndTheValue() {
    ConfigException e = failure("BROKER_HTTP_PORT", "eighty");
    assertThat(e.problems())
        .singleElement()
        .asString()
        .startsWith("BROKER_HTTP_PORT ")
        .contains("integer")
        .contains("'eighty'");
  }

  @Test
  void outOfRangePortSaysTheRange() {
    ConfigException e = failure("BROKER_HTTP_PORT", "70000");
    assertThat(e.problems())
        .singleElement()
        .asString()
        .contains("BROKER_HTTP_PORT")
        .contains("between 0 and 65535");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    ConfigException e =
        failure(
            "BROKER_HTTP_PORT", "-1",
            "VIPPS_BASE_URL", "ftp://vipps",
            "CREDENTIALS_BACKEND", "floppy",
            "VIPPS_READ_TIMEOUT", "soon");
    assertThat(e.problems()).hasSize(4);
    assertThat(e.getMessage())
        .contains("BROKER_HTTP_PORT")
        .contains("VIPPS_BASE_URL")
        .contains("CREDENTIALS_BACKEND must be one of local, vault")
        .contains("VIPPS_READ_TIMEOUT");
  }

  @Test
  void databaseUrlIsParsedAndItsPasswordHidden() {
    BrokerConfig config =
        parse(
            "DATABASE_URL", "postgresql://broker:s3cr%40t@db.example:6543/refunds?sslmode=require");
    DatabaseUrl url = config.database().url().orElseThrow();
    assertThat(url.host()).isEqualTo("db.example");
    assertThat(url.port()).isEqualTo(6543);
    assertThat(url.database()).isEqualTo("refunds");
    assertThat(url.user()).isEqualTo("broker");
    assertThat(url.password().orElseThrow().reveal()).isEqualTo("s3cr@t");
    assertThat(url.jdbcUrl())
        .isEqualTo("jdbc:postgresql://db.example:6543/refunds?sslmode=require");
    assertThat(config.toString()).doesNotContain("s3cr");
    assertThat(config.database().embedded()).isFalse();
  }

  @Test
  void badDatabaseUrlSaysWhatItShouldLookLike() {
    ConfigException e = failure("DATABASE_URL", "mysql://x@y/z");
    assertThat(e.problems())
        .singleElement()
        .asString()
        .startsWith("DATABASE_URL ")
        .contains("postgresql://");
    assertThat(failure("DATABASE_URL", "postgresql://host:5432/db").getMessage())
        .contains("DATABASE_URL must name a user");
  }

  @Test
  void shortAdminTokenIsRefusedWithoutEchoingIt() {
    ConfigException e = failure("BROKER_ADMIN_TOKEN", "hunter2-short-token");
    assertThat(e.getMessage()).contains("BROKER_ADMIN_TOKEN").contains("32 characters");
    assertThat(e.getMessage()).doesNotContain("hunter2");
  }

  @Test
  void secretsAreRedactedInToString() {
    String token = io.refundbroker.auth.Tokens.newToken() + "-canary-admin";
    BrokerConfig config =
        parse(
            "BROKER_ADMIN_TOKEN", token,
            "VAULT_ADDR", "https://vault.example:8200",
            "VAULT_TOKEN", "hvs.canary-vault-token",
            "CREDENTIALS_BACKEND", "vault");
    assertThat(config.http().adminToken().orElseThrow().reveal()).isEqualTo(token);
    assertThat(config.toString())
        .doesNotContain("canary-admin")
        .doesNotContain("canary-vault-token")
        .contains("[redacted]");
  }

  @Test
  void vaultAddressSelectsTheVaultBackendAndNeedsCredentials() {
    ConfigException e = failure("VAULT_ADDR", "http://127.0.0.1:8200");
    assertThat(e.getMessage()).contains("VAULT_TOKEN");
    BrokerConfig config =
        parse("VAULT_ADDR", "http://127.0.0.1:8200", "VAULT_ROLE_ID", "r", "VAULT_SECRET_ID", "s");
    assertThat(config.credentials().backend()).isEqualTo(BrokerConfig.CredentialsBackend.VAULT);
    assertThat(failure("CREDENTIALS_BACKEND", "vault").getMessage())
        .contains("VAULT_ADDR is required");
  }

  @Test
  void aTokenFileIsOneWayToAuthenticateAndCannotBeCombinedWithAnother() {
    BrokerConfig config =
        parse("VAULT_ADDR", "http://127.0.0.1:8200", "VAULT_TOKEN_FILE", "/run/vault/token");
    assertThat(config.vault().tokenFile()).contains(Path.of("/run/vault/token"));
    assertThat(config.vault().token()).isEmpty();
    assertThat(
            failure(
                    "VAULT_ADDR",
                    "http://127.0.0.1:8200",
                    "VAULT_TOKEN_FILE",
                    "/run/vault/token",
                    "VAULT_TOKEN",
                    "hvs.canary-vault-token")
                .getMessage())
        .contains("VAULT_TOKEN_FILE cannot be combined with VAULT_TOKEN")
        .doesNotContain("canary-vault-token");
    assertThat(
            failure(
                    "VAULT_ADDR",
                    "http://127.0.0.1:8200",
                    "VAULT_TOKEN_FILE",
                    "/run/vault/token",
                    "VAULT_ROLE_ID",
                    "r",
                    "VAULT_SECRET_ID",
                    "s")
                .getMessage())
        .contains("VAULT_TOKEN_FILE cannot be combined with VAULT_ROLE_ID/VAULT_SECRET_ID");
    assertThat(failure("VAULT_ADDR", "http://127.0.0.1:8200").getMessage())
        .contains("VAULT_TOKEN_FILE");
  }

  @Test
  void durationsAcceptUnits() {
    BrokerConfig config = parse("VIPPS_READ_TIMEOUT", "2500ms", "RECONCILER_INTERVAL", "2m");
    assertThat(config.vipps().readTimeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(config.refunds().reconcilerInterval()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void vippsSystemHeadersRespectTheThirtyCharacterLimit() {
    ConfigException e = failure("VIPPS_SYSTEM_NAME", "x".repeat(31));
    assertThat(e.getMessage()).contains("VIPPS_SYSTEM_NAME").contains("1-30");
  }

  @Test
  void migrationUrlNeedsDatabaseUrl() {
    assertThatThrownBy(() -> parse("DATABASE_MIGRATION_URL", "postgresql://o@h/db"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("DATABASE_MIGRATION_URL needs DATABASE_URL");
  }

  @Test
  void credentialsMaxAgeDefaultsToAYearAndTakesDays() {
    assertThat(parse().credentials().maxAge()).isEqualTo(Duration.ofDays(365));
    assertThat(parse("CREDENTIALS_MAX_AGE", "90d").credentials().maxAge())
        .isEqualTo(Duration.ofDays(90));
    assertThat(parse("CREDENTIALS_MAX_AGE", "48h").credentials().maxAge())
        .isEqualTo(Duration.ofDays(2));
    assertThat(failure("CREDENTIALS_MAX_AGE", "1h").problems())
        .singleElement()
        .asString()
        .startsWith("CREDENTIALS_MAX_AGE ")
        .contains("between 1d and 3650d");
    assertThat(failure("CREDENTIALS_MAX_AGE", "a year").problems())
        .singleElement()
        .asString()
        .startsWith("CREDENTIALS_MAX_AGE ");
  }

  @Test
  void requestLimitsHaveDefaultsAndAreValidated() {
    BrokerConfig config = parse();
    assertThat(config.orders().lookupsPerMinute()).isEqualTo(60);
    assertThat(config.http().maxConcurrentUploads()).isEqualTo(2);
    BrokerConfig set =
        parse("ORDER_LOOKUPS_PER_MINUTE", "10", "BROKER_MAX_CONCURRENT_UPLOADS", "4");
    assertThat(set.orders().lookupsPerMinute()).isEqualTo(10);
    assertThat(set.http().maxConcurrentUploads()).isEqualTo(4);

    ConfigException e =
        failure("ORDER_LOOKUPS_PER_MINUTE", "0", "BROKER_MAX_CONCURRENT_UPLOADS", "many");
    assertThat(e.problems()).hasSize(2);
    assertThat(e.problems()).anySatisfy(p -> assertThat(p).startsWith("ORDER_LOOKUPS_PER_MINUTE "));
    assertThat(e.problems())
        .anySatisfy(
            p -> assertThat(p).startsWith("BROKER_MAX_CONCURRENT_UPLOADS ").contains("'many'"));
  }

  @Test
  void plainHttpToVippsOrVaultIsRefusedUnlessTheHostIsLoopback() {
    for (String url :
        new String[] {
          "http://api.vipps.no",
          "http://10.0.0.5:8200",
          "http://127.0.0.1.evil.example",
          "http://localhost.evil.example",
          "http://128.0.0.1",
          "http://[::2]:8200",
          "http://[fe80::1]"
        }) {
      assertThat(failure("VIPPS_BASE_URL", url).getMessage())
          .as(url)
          .contains("VIPPS_BASE_URL must use https://")
          .contains("loopback");
      assertThat(
              failure("VAULT_ADDR", url, "VAULT_TOKEN", "hvs.test", "CREDENTIALS_BACKEND", "vault")
                  .problems())
          .as(url)
          .singleElement()
          .asString()
          .startsWith("VAULT_ADDR must use https://");
    }
    for (String url :
        new String[] {
          "http://127.0.0.1:8090",
          "http://127.200.3.4",
          "http://localhost:8200",
          "http://LOCALHOST",
          "http://[::1]:8200",
          "http://[0:0:0:0:0:0:0:1]",
          "https://api.vipps.no",
          "https://10.0.0.5:8200"
        }) {
      assertThat(parse("VIPPS_BASE_URL", url).vipps().baseUrl().toString()).isEqualTo(url);
      assertThat(
              parse("VAULT_ADDR", url, "VAULT_TOKEN", "hvs.test", "CREDENTIALS_BACKEND", "vault")
                  .vault()
                  .address())
          .map(Object::toString)
          .contains(url);
    }
  }

  @Test
  void databaseTlsSettingsAreCheckedAtStart(@TempDir Path dir) throws Exception {
    String base = "postgresql://broker:pw@db.example:5432/refunds?";
    assertThat(failure("DATABASE_URL", base + "sslmode=verify-ful").getMessage())
        .contains("DATABASE_URL sslmode must be one of disable, allow, prefer, require");
    assertThat(
            failure("DATABASE_URL", base + "sslmode=verify-full&sslrootcert=" + dir.resolve("no"))
                .getMessage())
        .contains("DATABASE_URL sslmode=verify-full needs the CA")
        .contains("not a readable file");
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a certificate");
    assertThat(
            failure("DATABASE_URL", base + "sslmode=verify-ca&sslrootcert=" + garbage).getMessage())
        .contains("holds no PEM certificate");
    assertThat(failure("DATABASE_URL", base + "sslcert=/etc/client.pem").getMessage())
        .contains("DATABASE_URL parameter sslcert is not supported");
    assertThat(failure("DATABASE_URL", base + "ssl=true").getMessage())
        .contains("parameter ssl is not supported");

    Path ca =
        Files.writeString(
            dir.resolve("my ca.pem"),
            io.refundbroker.db.TestCertificates.authority("config test CA").certificatePem());
    // a URL: the path's space is written %20
    String caParameter = ca.toString().replace(" ", "%20");
    assertThat(
            failure("DATABASE_URL", base + "sslmode=require&sslrootcert=" + caParameter)
                .getMessage())
        .contains("sslrootcert is only used with sslmode=verify-ca or verify-full");
    assertThat(
            failure(
                    "DATABASE_URL",
                    base + "sslmode=disable",
                    "DATABASE_MIGRATION_URL",
                    base + "sslmode=bogus")
                .problems())
        .singleElement()
        .asString()
        .startsWith("DATABASE_MIGRATION_URL sslmode must be one of");

    DatabaseUrl url =
        parse("DATABASE_URL", base + "sslmode=verify-full&sslrootcert=" + caParameter)
            .database()
            .url()
            .orElseThrow();
    assertThat(url.tlsMode()).isEqualTo(DatabaseUrl.TlsMode.VERIFY_FULL);
    assertThat(url.rootCertificate()).contains(ca);
    // the JDBC side reads the very same file (the space in its name encoded for the URL)
    String jdbc = url.jdbcUrl();
    assertThat(jdbc).startsWith("jdbc:postgresql://db.example:5432/refunds?sslmode=verify-full&");
    String written = jdbc.substring(jdbc.indexOf("&sslrootcert=") + "&sslrootcert=".length());
    assertThat(java.net.URLDecoder.decode(written, java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo(ca.toString());
    assertThat(
            parse("DATABASE_URL", base.replace("?", "")).database().url().orElseThrow().tlsMode())
        .isEqualTo(DatabaseUrl.TlsMode.PREFER);
  }
}

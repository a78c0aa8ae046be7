package io.refundbroker.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The broker's whole configuration, built once from the environment and validated before anything
 * starts. Every variable is documented in README.md; a bad value fails start-up with a message
 * naming the variable. Secrets are {@link Secret}s, so {@code toString()} never shows them.
 */
public record BrokerConfig(
    HttpConfig http,
    Path dataDir,
    DatabaseConfig database,
    LogConfig log,
    VippsConfig vipps,
    CredentialsConfig credentials,
    VaultConfig vault,
    AuditConfig audit,
    RefundConfig refunds,
    SandboxConfig sandbox,
    TlsConfig tls,
    OrderConfig orders) {

  /** HTTP server settings. */
  public record HttpConfig(
      String host,
      int port,
      int instances,
      int maxBodyBytes,
      int maxImportBytes,
      int maxConcurrentUploads,
      Duration shutdownGrace,
      Optional<Secret> adminToken) {}

  /** No URL means an embedded PostgreSQL under {@code <dataDir>/postgres}. */
  public record DatabaseConfig(
      Optional<DatabaseUrl> url, Optional<DatabaseUrl> migrationUrl, int poolSize) {
    public boolean embedded() {
      return url.isEmpty();
    }
  }

  /** Log output format and root level; logback reads the same variables. */
  public record LogConfig(LogFormat format, String level) {}

  public enum LogFormat {
    TEXT,
    JSON
  }

  /** Where and how the broker talks to Vipps MobilePay. */
  public record VippsConfig(
      URI baseUrl,
      Duration connectTimeout,
      Duration readTimeout,
      int maxAttempts,
      Duration retryBackoff,
      Duration tokenRefreshMargin,
      Duration paymentCacheTtl,
      String systemName,
      String systemVersion,
      String pluginName,
      String pluginVersion,
      boolean traceHttp) {}

  public enum CredentialsBackend {
    LOCAL,
    VAULT
  }

  /** The credential store in front of Vault or the local encrypted backend. */
  /**
   * Store credentials: where they live, how long reads are cached, and the age past which a store's
   * keys are reported as due for rotation ({@code CREDENTIALS_MAX_AGE}).
   */
  public record CredentialsConfig(
      CredentialsBackend backend, Duration cacheTtl, Path localKeyFile, Duration maxAge) {}

  /** HashiCorp Vault connection; only used with {@code CREDENTIALS_BACKEND=vault}. */
  public record VaultConfig(
      Optional<URI> address,
      Optional<Secret> token,
      Optional<String> roleId,
      Optional<Secret> secretId,
      String appRoleMount,
      Optional<String> namespace,
      String kvMount,
      Optional<Path> caCert,
      boolean skipVerify,
      Duration timeout,
      int workerThreads,
      String transitMount,
      String transitKey,
      Optional<Path> tokenFile) {}

  /**
   * The audit chain: signed checkpoints, and the sequencer that links committed events.
   *
   * @param sequencerInterval how often the leading sequencer links what was committed
   * @param sequencerTestPause tests only: the action whose first batch the sequencer holds open
   *     forever just before its commit (so a test can kill the process mid-batch)
   */
  public record AuditConfig(
      int checkpointEvery,
      Duration checkpointInterval,
      Path signingKeyFile,
      Duration sequencerInterval,
      Optional<String> sequencerTestPause) {}

  /** The refund flow and its reconciler. */
  public record RefundConfig(
      Duration reconcilerInterval,
      int reconcilerBatch,
      int upstreamCallsPerMinute,
      ZoneId limitZone) {}

  /** The built-in Vipps sandbox ({@code serve --sandbox}, {@code demo}). */
  public record SandboxConfig(int port) {}

  /**
   * HTTPS and client certificates. With {@code certFile}/{@code keyFile} the API speaks TLS 1.2/1.3
   * only; {@code clientAuth} says whether clients are asked for a certificate from the broker's CA.
   * {@code allowPlaintext} admits plain HTTP on a public interface (a proxy terminates TLS).
   */
  public record TlsConfig(
      Optional<Path> certFile,
      Optional<Path> keyFile,
      ClientAuthMode clientAuth,
      boolean allowPlaintext,
      Duration clientCertValidity,
      Duration reloadCheckInterval) {
    public boolean enabled() {
      return certFile.isPresent();
    }
  }

  /** {@code BROKER_TLS_CLIENT_AUTH}: whether TLS clients are asked for a certificate. */
  public enum ClientAuthMode {
    /** Never asked; clients use bearer tokens. */
    NONE,
    /** Asked; a client may present one of the broker's certificates or use a bearer token. */
    REQUEST,
    /** Every connection must present one of the broker's certificates; tokens are refused. */
    REQUIRE
  }

  /**
   * Order look-ups: how many a client may make per minute that read a payment from Vipps with
   * another store's keys (per broker instance).
   */
  public record OrderConfig(int lookupsPerMinute) {}

  /**
   * Builds and validates the configuration.
   *
   * @throws ConfigException listing every invalid variable
   */
  public static BrokerConfig fromEnvironment(Map<String, String> environment) {
    Env env = new Env(environment);
    Path dataDir = env.path("BROKER_DATA_DIR", Path.of("data"));
    TlsConfig tls = tls(env);
    HttpConfig http = httpConfig(env, tls);
    DatabaseConfig database = databaseConfig(env);
    LogConfig log =
        new LogConfig(
            env.enumeration("BROKER_LOG_FORMAT", LogFormat.TEXT, LogFormat.class), logLevel(env));
    VippsConfig vipps = vippsConfig(env);
    Optional<URI> vaultAddress =
        env.optional("VAULT_ADDR").map(raw -> env.httpUrl("VAULT_ADDR", "http://127.0.0.1:8200"));
    vaultAddress.ifPresent(address -> requireTlsBeyondLoopback(env, "VAULT_ADDR", address));
    CredentialsConfig credentials = credentialsConfig(env, dataDir, vaultAddress);
    VaultConfig vault = vaultConfig(env, vaultAddress);
    if (credentials.backend() == CredentialsBackend.VAULT) {
      validateVault(env, vault);
    }
    AuditConfig audit = auditConfig(env, dataDir);
    RefundConfig refunds = refundsConfig(env);
    SandboxConfig sandbox = new SandboxConfig(env.integer("SANDBOX_PORT", 8090, 0, 65535));
    checkPlaintextExposure(env, http.host(), tls);
    OrderConfig orders = new OrderConfig(env.integer("ORDER_LOOKUPS_PER_MINUTE", 60, 1, 100_000));

    List<String> problems = env.problems();
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new BrokerConfig(
        http,
        dataDir,
        database,
        log,
        vipps,
        credentials,
        vault,
        audit,
        refunds,
        sandbox,
        tls,
        orders);
  }

  /** The HTTP listener and the first admin token. */
  private static HttpConfig httpConfig(Env env, TlsConfig tls) {
    Optional<Secret> adminToken = env.optional("BROKER_ADMIN_TOKEN").map(Secret::of);
    adminToken.ifPresent(
        token -> {
          String weakness = TokenStrength.weakness(token.reveal());
          if (weakness != null) {
            env.problem("BROKER_ADMIN_TOKEN", weakness);
          }
        });
    return new HttpConfig(
        env.string("BROKER_HTTP_HOST", tls.enabled() ? "0.0.0.0" : "127.0.0.1"),
        env.integer("BROKER_HTTP_PORT", 8080, 0, 65535),
        env.integer("BROKER_HTTP_INSTANCES", Runtime.getRuntime().availableProcessors(), 1, 64),
        env.integer("BROKER_MAX_BODY_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024),
        env.integer("BROKER_MAX_IMPORT_BYTES", 10 * 1024 * 1024, 1024, 256 * 1024 * 1024),
        env.integer("BROKER_MAX_CONCURRENT_UPLOADS", 2, 1, 64),
        env.duration(
            "BROKER_SHUTDOWN_GRACE", Duration.ofSeconds(30), Duration.ZERO, Duration.ofMinutes(10)),
        adminToken);
  }

  /** The external database, if any (the embedded one needs no settings). */
  private static DatabaseConfig databaseConfig(Env env) {
    DatabaseConfig database =
        new DatabaseConfig(
            databaseUrl(env, "DATABASE_URL"),
            databaseUrl(env, "DATABASE_MIGRATION_URL"),
            env.integer("DATABASE_POOL_SIZE", 16, 1, 500));
    if (database.url().isEmpty() && database.migrationUrl().isPresent()) {
      env.problem("DATABASE_MIGRATION_URL", "needs DATABASE_URL as well");
    }
    return database;
  }

  /** The Vipps client: address, timeouts, retries, caches, system headers. */
  private static VippsConfig vippsConfig(Env env) {
    VippsConfig vipps =
        new VippsConfig(
            env.httpUrl("VIPPS_BASE_URL", "https://apitest.vipps.no"),
            env.duration(
                "VIPPS_CONNECT_TIMEOUT",
                Duration.ofSeconds(1),
                Duration.ofMillis(10),
                Duration.ofMinutes(1)),
            env.duration(
                "VIPPS_READ_TIMEOUT",
                Duration.ofSeconds(5),
                Duration.ofMillis(10),
                Duration.ofMinutes(5)),
            env.integer("VIPPS_MAX_ATTEMPTS", 3, 1, 10),
            env.duration(
                "VIPPS_RETRY_BACKOFF",
                Duration.ofMillis(200),
                Duration.ZERO,
                Duration.ofMinutes(1)),
            env.duration(
                "VIPPS_TOKEN_REFRESH_MARGIN",
                Duration.ofMinutes(5),
                Duration.ZERO,
                Duration.ofHours(1)),
            env.duration(
                "VIPPS_PAYMENT_CACHE_TTL",
                Duration.ofSeconds(5),
                Duration.ZERO,
                Duration.ofHours(1)),
            systemHeader(env, "VIPPS_SYSTEM_NAME", "refund-broker"),
            systemHeader(env, "VIPPS_SYSTEM_VERSION", BuildInfo.version()),
            systemHeader(env, "VIPPS_PLUGIN_NAME", "refund-broker"),
            systemHeader(env, "VIPPS_PLUGIN_VERSION", BuildInfo.version()),
            env.bool("VIPPS_TRACE_HTTP", false));

    requireTlsBeyondLoopback(env, "VIPPS_BASE_URL", vipps.baseUrl());
    return vipps;
  }

  /** Which credential backend holds the key sets, and how long they are cached. */
  private static CredentialsConfig credentialsConfig(
      Env env, Path dataDir, Optional<URI> vaultAddress) {
    CredentialsBackend defaultBackend =
        vaultAddress.isPresent() ? CredentialsBackend.VAULT : CredentialsBackend.LOCAL;
    CredentialsConfig credentials =
        new CredentialsConfig(
            env.enumeration("CREDENTIALS_BACKEND", defaultBackend, CredentialsBackend.class),
            env.duration(
                "CREDENTIALS_CACHE_TTL", Duration.ofMinutes(5), Duration.ZERO, Duration.ofDays(1)),
            env.path("LOCAL_KEK_FILE", dataDir.resolve("credentials.kek")),
            env.duration(
                "CREDENTIALS_MAX_AGE",
                Duration.ofDays(365),
                Duration.ofDays(1),
                Duration.ofDays(3650)));
    return credentials;
  }

  /** The Vault session: address, identity, TLS, mounts. */
  private static VaultConfig vaultConfig(Env env, Optional<URI> vaultAddress) {
    VaultConfig vault =
        new VaultConfig(
            vaultAddress,
            env.optional("VAULT_TOKEN").map(Secret::of),
            env.optional("VAULT_ROLE_ID"),
            env.optional("VAULT_SECRET_ID").map(Secret::of),
            env.string("VAULT_APPROLE_MOUNT", "approle"),
            env.optional("VAULT_NAMESPACE"),
            env.string("VAULT_KV_MOUNT", "refund-broker"),
            env.optional("VAULT_CACERT").map(Path::of),
            env.bool("VAULT_SKIP_VERIFY", false),
            env.duration(
                "VAULT_TIMEOUT",
                Duration.ofSeconds(5),
                Duration.ofSeconds(1),
                Duration.ofMinutes(5)),
            env.integer("VAULT_WORKER_THREADS", 4, 1, 64),
            env.string("VAULT_TRANSIT_MOUNT", "transit"),
            env.string("VAULT_TRANSIT_KEY", "refund-broker-audit"),
            env.optional("VAULT_TOKEN_FILE").map(raw -> env.path("VAULT_TOKEN_FILE", null)));
    return vault;
  }

  /** The audit trail: checkpoints, signing key file, sequencer. */
  private static AuditConfig auditConfig(Env env, Path dataDir) {
    AuditConfig audit =
        new AuditConfig(
            env.integer("AUDIT_CHECKPOINT_EVERY", 1000, 1, 10_000_000),
            env.duration(
                "AUDIT_CHECKPOINT_INTERVAL",
                Duration.ofSeconds(60),
                Duration.ofSeconds(1),
                Duration.ofDays(1)),
            env.path("AUDIT_SIGNING_KEY_FILE", dataDir.resolve("audit-signing-key.pem")),
            env.duration(
                "AUDIT_SEQUENCER_INTERVAL",
                Duration.ofMillis(5),
                Duration.ofMillis(1),
                Duration.ofSeconds(10)),
            env.optional("AUDIT_SEQUENCER_TEST_PAUSE"));
    audit
        .sequencerTestPause()
        .filter(action -> !action.matches("[a-z][a-z0-9_.-]{0,99}"))
        .ifPresent(
            action ->
                env.problem(
                    "AUDIT_SEQUENCER_TEST_PAUSE",
                    "must be an audit action such as store.created (tests only)"));
    return audit;
  }

  /** Refunds: the reconciler, the per-payment call rate, the business time zone. */
  private static RefundConfig refundsConfig(Env env) {
    RefundConfig refunds =
        new RefundConfig(
            env.duration(
                "RECONCILER_INTERVAL",
                Duration.ofSeconds(30),
                Duration.ofMillis(100),
                Duration.ofHours(1)),
            env.integer("RECONCILER_BATCH", 50, 1, 10_000),
            env.integer("VIPPS_REFUND_CALLS_PER_MINUTE", 5, 1, 1000),
            zone(env));
    return refunds;
  }

  // ---- TLS and client certificates (README: Security → Transport and client identity) ----

  private static TlsConfig tls(Env env) {
    Optional<Path> cert =
        env.optional("BROKER_TLS_CERT")
            .map(raw -> pemFile(env, "BROKER_TLS_CERT", raw, "CERTIFICATE"));
    Optional<Path> key =
        env.optional("BROKER_TLS_KEY")
            .map(raw -> pemFile(env, "BROKER_TLS_KEY", raw, "PRIVATE KEY"));
    if (cert.isPresent() != key.isPresent()) {
      env.problem(
          cert.isPresent() ? "BROKER_TLS_KEY" : "BROKER_TLS_CERT",
          "is required as well: HTTPS needs both BROKER_TLS_CERT and BROKER_TLS_KEY");
    }
    ClientAuthMode clientAuth =
        env.enumeration("BROKER_TLS_CLIENT_AUTH", ClientAuthMode.NONE, ClientAuthMode.class);
    if (clientAuth != ClientAuthMode.NONE && cert.isEmpty()) {
      env.problem(
          "BROKER_TLS_CLIENT_AUTH",
          "needs HTTPS: client certificates are presented in the TLS handshake, so set"
              + " BROKER_TLS_CERT and BROKER_TLS_KEY");
    }
    return new TlsConfig(
        cert.filter(c -> key.isPresent()),
        key.filter(k -> cert.isPresent()),
        clientAuth,
        env.bool("BROKER_ALLOW_PLAINTEXT", false),
        env.duration(
            "BROKER_CLIENT_CERT_VALIDITY",
            Duration.ofDays(365),
            Duration.ofHours(1),
            Duration.ofDays(3650)),
        env.duration(
            "BROKER_TLS_RELOAD_CHECK", Duration.ofSeconds(30), Duration.ZERO, Duration.ofDays(1)));
  }

  /** A readable file holding a PEM block whose type ends with {@code type}. */
  private static Path pemFile(Env env, String name, String raw, String type) {
    Path path = Path.of(raw);
    try {
      String text =
          java.nio.file.Files.readString(path, java.nio.charset.StandardCharsets.ISO_8859_1);
      if (!text.matches("(?s).*-----BEGIN [A-Z0-9 ]*" + type + "-----.*")) {
        env.problem(name, "must be a PEM file with a " + type + " block (" + raw + " has none)");
      }
    } catch (java.io.IOException | RuntimeException e) {
      env.problem(name, "must be a readable PEM file (cannot read " + raw + ")");
    }
    return path;
  }

  /**
   * Plain HTTP only on loopback: bearer tokens and the Vipps client secrets in rotation bodies
   * would otherwise cross the network in clear text.
   */
  private static void checkPlaintextExposure(Env env, String host, TlsConfig tls) {
    if (tls.enabled() || tls.allowPlaintext() || isLoopback(host)) {
      return;
    }
    env.problem(
        "BROKER_HTTP_HOST",
        "is "
            + host
            + ", not a loopback address, but TLS is off: tokens and Vipps keys would cross the"
            + " network in clear text. Set BROKER_TLS_CERT and BROKER_TLS_KEY, or"
            + " BROKER_ALLOW_PLAINTEXT=true when a proxy in front of the broker terminates TLS");
  }

  /** 127.0.0.0/8, ::1 and localhost (by name, without a DNS lookup). */
  public static boolean isLoopback(String host) {
    String h = host.trim().toLowerCase(java.util.Locale.ROOT);
    return h.equals("localhost")
        || h.equals("::1")
        || h.equals("[::1]")
        || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
  }

  /**
   * Plain {@code http://} would carry tokens and store keys in clear text: it is allowed only to
   * this machine (the sandbox, a Vault agent or a test double on loopback).
   */
  private static void requireTlsBeyondLoopback(Env env, String name, URI url) {
    if ("http".equals(url.getScheme()) && !Loopback.isLoopback(url.getHost())) {
      env.problem(
          name,
          "must use https:// (http:// is accepted only for a loopback host: localhost,"
              + " 127.0.0.0/8 or [::1]; got host "
              + url.getHost()
              + ")");
    }
  }

  private static Optional<DatabaseUrl> databaseUrl(Env env, String name) {
    return env.optional(name)
        .flatMap(
            raw -> {
              try {
                return Optional.of(DatabaseUrl.parse(raw));
              } catch (IllegalArgumentException e) {
                env.problem(name, e.getMessage());
                return Optional.empty();
              }
            });
  }

  private static String logLevel(Env env) {
    String level = env.string("BROKER_LOG_LEVEL", "INFO").toUpperCase(java.util.Locale.ROOT);
    if (!List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR").contains(level)) {
      env.problem("BROKER_LOG_LEVEL", "must be one of trace, debug, info, warn, error");
    }
    return level;
  }

  private static String systemHeader(Env env, String name, String defaultValue) {
    String value = env.string(name, defaultValue);
    if (value.length() > 30 || !value.matches("[\\x21-\\x7E]+")) {
      env.problem(name, "must be 1-30 visible ASCII characters (a Vipps header limit)");
    }
    return value;
  }

  private static ZoneId zone(Env env) {
    String raw = env.string("REFUND_LIMIT_ZONE", "Europe/Oslo");
    try {
      return ZoneId.of(raw);
    } catch (RuntimeException e) {
      env.problem("REFUND_LIMIT_ZONE", "must be a time zone id such as Europe/Oslo or UTC");
      return ZoneId.of("UTC");
    }
  }

  private static void validateVault(Env env, VaultConfig vault) {
    if (vault.address().isEmpty()) {
      env.problem("VAULT_ADDR", "is required when CREDENTIALS_BACKEND=vault");
    }
    boolean appRole = vault.roleId().isPresent() || vault.secretId().isPresent();
    if (appRole && (vault.roleId().isEmpty() || vault.secretId().isEmpty())) {
      env.problem(
          vault.roleId().isEmpty() ? "VAULT_ROLE_ID" : "VAULT_SECRET_ID",
          "is required with AppRole login (set both VAULT_ROLE_ID and VAULT_SECRET_ID)");
    }
    if (!appRole && vault.token().isEmpty() && vault.tokenFile().isEmpty()) {
      env.problem(
          "VAULT_TOKEN",
          "or VAULT_TOKEN_FILE or VAULT_ROLE_ID + VAULT_SECRET_ID is required when using Vault");
    }
    if (vault.tokenFile().isPresent() && (appRole || vault.token().isPresent())) {
      env.problem(
          "VAULT_TOKEN_FILE",
          "cannot be combined with "
              + (appRole ? "VAULT_ROLE_ID/VAULT_SECRET_ID" : "VAULT_TOKEN")
              + ": choose one way to authenticate");
    }
    if (!vault.kvMount().matches("[A-Za-z0-9][A-Za-z0-9_./-]{0,127}")) {
      env.problem("VAULT_KV_MOUNT", "must be a mount path such as refund-broker");
    }
  }
}

package io.refundbroker.credential.vault;

import io.github.jopenlibs.vault.EnvironmentLoader;
import io.github.jopenlibs.vault.SslConfig;
import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.response.AuthResponse;
import io.github.jopenlibs.vault.response.LookupResponse;
import io.github.jopenlibs.vault.rest.RestResponse;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.Secret;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's connection to Vault: who it is (AppRole login or a given token), the driver
 * instances that carry that token, and the worker threads that run the blocking driver.
 *
 * <p>Token lifecycle: the token is renewed at about two thirds of its TTL; when renewal no longer
 * extends it (the role's max TTL is near) or the token is rejected as invalid, the session logs in
 * again with AppRole. A call rejected with 403 {@code invalid token} is retried once after a fresh
 * login. With a static {@code VAULT_TOKEN} there is nothing to log in with, so such calls fail.
 *
 * <p>Driver quirks handled here (see {@code notes/vault.md} §8): every driver call runs on the
 * named, bounded worker executor {@code vault-driver}, never on an event loop; each {@link Vault}
 * has its own {@link VaultConfig}; an {@link EnvironmentLoader} that returns nothing keeps {@code
 * VAULT_*} variables and {@code ~/.vault-token} out; timeouts are always set; one shared {@link
 * HttpClient} is reused.
 */
public final class VaultSession {
  private static final Logger LOG = LoggerFactory.getLogger(VaultSession.class);
  private static final Duration MIN_RETRY = Duration.ofSeconds(2);
  private static final Duration MAX_RETRY = Duration.ofSeconds(60);

  /** The driver instances that carry one token. Immutable; replaced as a whole on login. */
  record Clients(Secret token, Vault kv, Vault raw, long ttlSeconds, boolean renewable) {}

  /** A blocking driver call made with the current clients. */
  @FunctionalInterface
  interface VaultCall<T> {
    T call(Clients clients) throws VaultException;
  }

  private final Vertx vertx;
  private final BrokerConfig.VaultConfig config;
  private final WorkerExecutor worker;
  private final HttpClient http;
  private final int kvPrefixDepth;

  private volatile Clients clients;
  private Future<Clients> login;
  private long timer = -1;
  private long initialTtlSeconds;
  private Duration retryDelay = MIN_RETRY;
  private boolean closed;

  private VaultSession(Vertx vertx, BrokerConfig.VaultConfig config, HttpClient http) {
    this.vertx = vertx;
    this.config = config;
    this.worker =
        vertx.createSharedWorkerExecutor(
            "vault-driver",
            config.workerThreads(),
            config.timeout().toMillis() * 4 + 1_000,
            TimeUnit.MILLISECONDS);
    this.http = http;
    this.kvPrefixDepth = config.kvMount().split("/").length;
  }

  /**
   * Creates the session and authenticates (AppRole login, or a lookup of the given token to learn
   * its TTL). A Vault that is down or sealed at start does not stop the broker: the failure is
   * logged, readiness reports it, and the next call tries again.
   *
   * @return the session; fails only when the TLS settings cannot be used
   */
  public static Future<VaultSession> start(Vertx vertx, BrokerConfig.VaultConfig config) {
    HttpClient http;
    try {
      http = httpClient(config);
    } catch (VaultException | GeneralSecurityException e) {
      return Future.failedFuture(
          new IllegalStateException("VAULT_CACERT cannot be used: " + firstLine(e), e));
    }
    VaultSession session = new VaultSession(vertx, config, http);
    return session
        .authenticate()
        .<VaultSession>map(c -> session)
        .recover(
            failure -> {
              LOG.atError()
                  .setMessage("Vault login failed at start; credential reads will retry it")
                  .addKeyValue("reason", describe(failure))
                  .log();
              return Future.succeededFuture(session);
            });
  }

  /** The KV v2 mount ({@code VAULT_KV_MOUNT}). */
  String kvMount() {
    return config.kvMount();
  }

  /** Whether the session can log in again by itself (AppRole). */
  boolean canLogin() {
    return config.roleId().isPresent() && config.secretId().isPresent();
  }

  /**
   * Runs {@code call} on the worker with the current token; on 403 {@code invalid token} it logs in
   * again (AppRole) and retries once.
   *
   * @param method the HTTP method of the call, for logs
   * @param path the Vault path of the call, for logs
   * @return the call's result; fails with a {@link VaultFailure}
   */
  <T> Future<T> call(String method, String path, VaultCall<T> call) {
    return current()
        .compose(
            c ->
                run(method, path, c, call)
                    .recover(
                        failure -> {
                          if (failure instanceof VaultFailure f
                              && f.kind() == VaultFailure.Kind.INVALID_TOKEN
                              && canLogin()) {
                            LOG.atInfo()
                                .setMessage("Vault rejected the token; logging in again")
                                .addKeyValue("path", path)
                                .log();
                            return relogin(c).compose(fresh -> run(method, path, fresh, call));
                          }
                          return Future.failedFuture(failure);
                        }))
        .onFailure(failure -> logFailure(method, path, failure));
  }

  /** Succeeds when Vault answers {@code sys/health} as initialised and unsealed. */
  Future<Void> checkHealth() {
    Clients c = clients;
    Vault vault = c != null ? c.raw() : Vault.create(vaultConfig(null, 1, 0), 1);
    return worker
        .executeBlocking(() -> vault.debug().health(), false)
        .recover(failure -> Future.failedFuture(translate(failure, "GET", "sys/health")))
        .compose(
            health -> {
              if (Boolean.TRUE.equals(health.getSealed())) {
                return Future.failedFuture(
                    new VaultFailure(VaultFailure.Kind.SEALED, 503, "GET", "sys/health"));
              }
              if (!Boolean.TRUE.equals(health.getInitialized())) {
                return Future.failedFuture(
                    new VaultFailure(VaultFailure.Kind.UNREACHABLE, 501, "GET", "sys/health"));
              }
              return current().mapEmpty();
            });
  }

  /**
   * Renews the token now (what the timer does at two thirds of its TTL); logs in again when the
   * renewal no longer extends it. Exposed to tests so they need not wait for the timer.
   */
  Future<Void> renewNow() {
    Clients c = clients;
    if (c == null) {
      return authenticate().mapEmpty();
    }
    if (!c.renewable()) {
      return canLogin() ? relogin(c).mapEmpty() : Future.succeededFuture();
    }
    return run("POST", "auth/token/renew-self", c, cl -> cl.raw().auth().renewSelf())
        .compose(
            renewed -> {
              long ttl = renewed.getAuthLeaseDuration();
              if (canLogin() && ttl < initialTtlSeconds) {
                LOG.atInfo()
                    .setMessage("Vault token is near its max TTL; logging in again")
                    .addKeyValue("ttlSeconds", ttl)
                    .log();
                return relogin(c).mapEmpty();
              }
              synchronized (this) {
                if (clients == c) {
                  clients = new Clients(c.token(), c.kv(), c.raw(), ttl, renewed.isAuthRenewable());
                }
              }
              LOG.atDebug().setMessage("Vault token renewed").addKeyValue("ttlSeconds", ttl).log();
              schedule(renewalDelay(ttl));
              return Future.<Void>succeededFuture();
            })
        .recover(
            failure -> {
              if (canLogin()) {
                LOG.atWarn()
                    .setMessage("Vault token renewal failed; logging in again")
                    .addKeyValue("reason", describe(failure))
                    .log();
                return relogin(c).mapEmpty();
              }
              LOG.atError()
                  .setMessage("Vault token renewal failed; VAULT_TOKEN may expire")
                  .addKeyValue("reason", describe(failure))
                  .log();
              scheduleRetry();
              return Future.failedFuture(failure);
            });
  }

  /** Cancels the renewal timer and closes the worker pool. */
  public Future<Void> close() {
    synchronized (this) {
      closed = true;
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    }
    return worker.close();
  }

  private Future<Clients> current() {
    Clients c = clients;
    return c != null ? Future.succeededFuture(c) : authenticate();
  }

  private synchronized Future<Clients> relogin(Clients stale) {
    if (clients != stale && clients != null) {
      return Future.succeededFuture(clients);
    }
    clients = null;
    return authenticate();
  }

  /** One login at a time; concurrent callers share it. */
  private synchronized Future<Clients> authenticate() {
    if (login != null) {
      return login;
    }
    Future<Clients> attempt =
        worker
            .executeBlocking(this::blockingAuthenticate, false)
            .recover(failure -> Future.failedFuture(translate(failure, "POST", loginPath())));
    login = attempt;
    attempt.onComplete(
        result -> {
          synchronized (this) {
            login = null;
            if (result.succeeded()) {
              clients = result.result();
              initialTtlSeconds = result.result().ttlSeconds();
              retryDelay = MIN_RETRY;
              LOG.atInfo()
                  .setMessage(canLogin() ? "logged in to Vault (AppRole)" : "using VAULT_TOKEN")
                  .addKeyValue("ttlSeconds", result.result().ttlSeconds())
                  .addKeyValue("renewable", result.result().renewable())
                  .log();
              if (result.result().ttlSeconds() > 0) {
                schedule(renewalDelay(result.result().ttlSeconds()));
              }
            } else if (canLogin()) {
              scheduleRetry();
            }
          }
        });
    return attempt;
  }

  private Clients blockingAuthenticate() throws VaultException {
    if (canLogin()) {
      Vault anonymous = Vault.create(vaultConfig(null, 1, 0), 1);
      AuthResponse auth =
          anonymous
              .auth()
              .loginByAppRole(
                  config.appRoleMount(),
                  config.roleId().orElseThrow(),
                  config.secretId().orElseThrow().reveal());
      return clients(
          Secret.of(auth.getAuthClientToken()),
          auth.getAuthLeaseDuration(),
          auth.isAuthRenewable());
    }
    Secret token = config.token().orElseThrow();
    Vault raw = Vault.create(vaultConfig(token, 1, 0), 1);
    LookupResponse self = raw.auth().lookupSelf();
    int status = self.getRestResponse().getStatus();
    if (status != 200) {
      throw new VaultException(errorBody(self.getRestResponse()), status);
    }
    return clients(token, self.getTTL(), self.isRenewable());
  }

  private Clients clients(Secret token, long ttlSeconds, boolean renewable) {
    return new Clients(
        token,
        Vault.create(vaultConfig(token, 2, kvPrefixDepth), 2),
        Vault.create(vaultConfig(token, 1, 0), 1),
        ttlSeconds,
        renewable);
  }

  private <T> Future<T> run(String method, String path, Clients c, VaultCall<T> call) {
    return worker
        .executeBlocking(() -> call.call(c), false)
        .recover(failure -> Future.failedFuture(translate(failure, method, path)));
  }

  private VaultConfig vaultConfig(Secret token, int engineVersion, int prefixDepth) {
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
      config.namespace().ifPresent(ns -> setNamespace(vc, ns));
      return vc.build();
    } catch (VaultException e) {
      throw new IllegalStateException("Vault settings are unusable: " + firstLine(e), e);
    }
  }

  private static void setNamespace(VaultConfig vc, String namespace) {
    try {
      vc.nameSpace(namespace);
    } catch (VaultException e) {
      throw new IllegalStateException("VAULT_NAMESPACE is unusable", e);
    }
  }

  private String loginPath() {
    return canLogin() ? "auth/" + config.appRoleMount() + "/login" : "auth/token/lookup-self";
  }

  private synchronized void schedule(Duration delay) {
    if (closed) {
      return;
    }
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    timer =
        vertx.setTimer(
            Math.max(1, delay.toMillis()),
            id -> {
              synchronized (this) {
                if (timer == id) {
                  timer = -1;
                }
              }
              renewNow();
            });
  }

  private synchronized void scheduleRetry() {
    Duration delay = retryDelay;
    retryDelay =
        retryDelay.multipliedBy(2).compareTo(MAX_RETRY) > 0
            ? MAX_RETRY
            : retryDelay.multipliedBy(2);
    schedule(delay);
  }

  /** About two thirds of the TTL, with up to 10 % jitter so instances do not renew in step. */
  private static Duration renewalDelay(long ttlSeconds) {
    double fraction = 2.0 / 3.0 - Math.random() * 0.1;
    return Duration.ofMillis((long) (ttlSeconds * 1000 * fraction));
  }

  private void logFailure(String method, String path, Throwable failure) {
    if (!(failure instanceof VaultFailure f)) {
      LOG.atError()
          .setMessage("Vault call failed unexpectedly")
          .addKeyValue("method", method)
          .addKeyValue("path", path)
          .addKeyValue("error", failure.getClass().getName())
          .log();
      return;
    }
    switch (f.kind()) {
      case NOT_FOUND, CAS_MISMATCH -> {}
      case DENIED ->
          LOG.atError()
              .setMessage(
                  "Vault denied the broker: its token's policy lacks the capability for this"
                      + " path; compare the policy with vault-config/broker.hcl")
              .addKeyValue("method", f.method())
              .addKeyValue("path", f.path())
              .addKeyValue("status", f.status())
              .log();
      default ->
          LOG.atWarn()
              .setMessage("Vault call failed")
              .addKeyValue("kind", f.kind())
              .addKeyValue("method", f.method())
              .addKeyValue("path", f.path())
              .addKeyValue("status", f.status())
              .log();
    }
  }

  /** Turns whatever a driver call threw into a {@link VaultFailure} (never carrying a body). */
  static Throwable translate(Throwable failure, String method, String path) {
    if (failure instanceof VaultFailure) {
      return failure;
    }
    if (failure instanceof VaultException e) {
      return VaultFailure.of(e.getHttpStatusCode(), e.getMessage(), method, path);
    }
    return new VaultFailure(VaultFailure.Kind.UNREACHABLE, 0, method, path);
  }

  /** Throws the classified failure for a non-2xx response. */
  static void check(RestResponse response, String method, String path) {
    int status = response.getStatus();
    if (status < 200 || status > 299) {
      throw VaultFailure.of(status, errorBody(response), method, path);
    }
  }

  private static String errorBody(RestResponse response) {
    byte[] body = response.getBody();
    return body == null ? "" : new String(body, StandardCharsets.UTF_8);
  }

  static String describe(Throwable failure) {
    return failure instanceof VaultFailure f ? f.getMessage() : failure.getClass().getSimpleName();
  }

  private static String firstLine(Exception e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  private static String stripSlash(String address) {
    return address.endsWith("/") ? address.substring(0, address.length() - 1) : address;
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

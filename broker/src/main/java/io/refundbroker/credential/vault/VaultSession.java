package io.refundbroker.credential.vault;

import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.response.AuthResponse;
import io.github.jopenlibs.vault.response.HealthResponse;
import io.github.jopenlibs.vault.response.LogicalResponse;
import io.github.jopenlibs.vault.response.LookupResponse;
import io.github.jopenlibs.vault.rest.RestResponse;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.Secret;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's connection to Vault: who it is (AppRole login, a given token, or the token a Vault
 * Agent writes to a file), the driver instances that carry that token, and the worker threads that
 * run the blocking driver.
 *
 * <p>Token lifecycle. The token is renewed at about two thirds of its TTL. When a renewal no longer
 * extends it (Vault capped it at the max TTL) or Vault answers 403 {@code invalid token}, an
 * AppRole session logs in again (and retries a refused call once). A given token ({@code
 * VAULT_TOKEN}) or a file token ({@code VAULT_TOKEN_FILE}) cannot be replaced by the session: once
 * renewal is capped it is not renewed again, and when its TTL runs out or Vault refuses it, the
 * session marks it unusable: readiness goes DOWN naming why, the log says once at ERROR what the
 * operator must do, and no request is ever sent with that token again (calls fail at once with
 * {@link VaultFailure.Kind#NO_TOKEN}). A file token is replaced when the file holds a new one: the
 * file is re-read when it changes ({@link TokenFileWatcher}), when the current token stops working,
 * and on the next call while there is none.
 *
 * <p>Vault's state. {@link #checkHealth()} asks {@code sys/health} (without a token) and then
 * probes a credential read: a sealed, uninitialised or DR-secondary Vault is not ready, a standby
 * or performance standby is when reads work there (see {@link VaultHealth}).
 *
 * <p>Driver quirks (see {@code notes/vault.md} §8): every driver call runs on the named, bounded
 * worker executor {@code vault-driver}, never on an event loop, and a call that has waited {@code
 * VAULT_TIMEOUT} there for a thread fails without calling Vault ({@link #onWorker}); how each
 * driver instance is configured (one shared HTTP client, no {@code VAULT_*} variables, timeouts) is
 * {@link VaultDriverSettings}.
 *
 * <p>Thread safety: the current {@link Clients} is one immutable value in a volatile field; every
 * change of the token state (clients, the unusable reason, the refused tokens, timers) happens
 * under this object's monitor, which is never held across a call to Vault.
 */
public final class VaultSession {
  private static final Logger LOG = LoggerFactory.getLogger(VaultSession.class);
  private static final Duration MIN_RETRY = Duration.ofSeconds(2);
  private static final Duration MAX_RETRY = Duration.ofSeconds(60);
  private static final int REFUSED_KEPT = 32;

  /** The KV key the readiness probe reads; MSNs are digits, so it never names a store's keys. */
  static final String PROBE_KEY = "salesunits/readiness-probe";

  /**
   * The driver instances that carry one token. Immutable; replaced as a whole on login.
   *
   * @param ttlSeconds the token's TTL when it was last looked up, issued or renewed
   * @param fullTtlSeconds the TTL a renewal gives while the max TTL is still far (at login: the
   *     lease; a given token: its creation TTL); a renewal that gives less was capped
   * @param expiresAtNanos {@link System#nanoTime()} when the TTL runs out ({@link Long#MAX_VALUE}
   *     for a token without one)
   */
  record Clients(
      Secret token,
      Vault kv,
      Vault raw,
      long ttlSeconds,
      boolean renewable,
      long fullTtlSeconds,
      long expiresAtNanos) {

    /**
     * After a renewal, sent at {@code sentAtNanos}, that gave {@code ttl} seconds (0: it runs out
     * now).
     */
    Clients renewed(long ttl, boolean stillRenewable, long sentAtNanos) {
      return new Clients(
          token,
          kv,
          raw,
          ttl,
          stillRenewable,
          fullTtlSeconds,
          sentAtNanos + TimeUnit.SECONDS.toNanos(Math.max(0, ttl)));
    }

    long remainingMillis() {
      return expiresAtNanos == Long.MAX_VALUE
          ? Long.MAX_VALUE
          : TimeUnit.NANOSECONDS.toMillis(expiresAtNanos - System.nanoTime());
    }
  }

  /** A blocking driver call made with the current clients. */
  @FunctionalInterface
  interface VaultCall<T> {
    T call(Clients clients) throws VaultException;
  }

  private final Vertx vertx;
  private final BrokerConfig.VaultConfig config;
  private final WorkerExecutor worker;
  private final VaultDriverSettings driver;
  private final int kvPrefixDepth;
  private final Optional<TokenFile> tokenFile;
  private final long queueLimitNanos;

  private volatile Clients clients;
  private volatile String tokenProblem;
  private final Set<Secret> refused = new LinkedHashSet<>();
  private Future<Clients> login;
  private long timer = -1;
  private Duration retryDelay = MIN_RETRY;
  private boolean closed;
  private boolean cappedWarned;
  private TokenFile.Stamp fileStamp;
  private String fileProblem;
  private VaultHealth.State lastState;
  private String watcher;

  private VaultSession(Vertx vertx, BrokerConfig.VaultConfig config, VaultDriverSettings driver) {
    this.vertx = vertx;
    this.config = config;
    this.worker =
        vertx.createSharedWorkerExecutor(
            "vault-driver",
            config.workerThreads(),
            config.timeout().toMillis() * 4 + 1_000,
            TimeUnit.MILLISECONDS);
    this.driver = driver;
    this.kvPrefixDepth = config.kvMount().split("/").length;
    this.tokenFile = config.tokenFile().map(TokenFile::new);
    this.queueLimitNanos = config.timeout().toNanos();
  }

  /**
   * Creates the session and authenticates (AppRole login, or a lookup of the given token to learn
   * its TTL); with {@code VAULT_TOKEN_FILE} it also starts watching the file. A Vault that is down
   * or sealed at start does not stop the broker: the failure is logged, readiness reports it, and
   * the next call tries again.
   *
   * @return the session; fails only when the TLS settings cannot be used
   */
  public static Future<VaultSession> start(Vertx vertx, BrokerConfig.VaultConfig config) {
    VaultDriverSettings driver;
    try {
      driver = VaultDriverSettings.create(config);
    } catch (IllegalStateException e) {
      return Future.failedFuture(e);
    }
    VaultSession session = new VaultSession(vertx, config, driver);
    Future<Void> watching =
        session.tokenFile.isEmpty()
            ? Future.succeededFuture()
            : vertx
                .deployVerticle(new TokenFileWatcher(session), new DeploymentOptions())
                .map(
                    id -> {
                      synchronized (session) {
                        session.watcher = id;
                      }
                      return null;
                    });
    return watching.compose(
        w ->
            session
                .authenticate()
                .<VaultSession>map(c -> session)
                .recover(
                    failure -> {
                      LOG.atError()
                          .setMessage("Vault login failed at start; credential reads will retry it")
                          .addKeyValue("reason", describe(failure))
                          .log();
                      return Future.succeededFuture(session);
                    }));
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
   * Runs {@code call} on the worker with the current token. On 403 {@code invalid token} an AppRole
   * session logs in again and retries once; a given or file token is marked unusable (never sent
   * again), and a file token is replaced by a new one from the file, if there is one, for one
   * retry.
   *
   * @param method the HTTP method of the call, for logs
   * @param path the Vault path of the call, for logs
   * @return the call's result; fails with a {@link VaultFailure}
   */
  <T> Future<T> call(String method, String path, VaultCall<T> call) {
    return callQuietly(method, path, call).onFailure(failure -> logFailure(method, path, failure));
  }

  /** Like {@link #call} without logging a failure (readiness probes report theirs). */
  private <T> Future<T> callQuietly(String method, String path, VaultCall<T> call) {
    return current()
        .compose(
            c ->
                run(method, path, c, call)
                    .recover(failure -> afterRefusal(failure, c, method, path, call)));
  }

  /**
   * A call Vault refused with 403 invalid token: logged in again and sent once more (AppRole), or
   * sent once more with the token file's newer token; any other failure stays as it is.
   */
  private <T> Future<T> afterRefusal(
      Throwable failure, Clients c, String method, String path, VaultCall<T> call) {
    if (!(failure instanceof VaultFailure f) || f.kind() != VaultFailure.Kind.INVALID_TOKEN) {
      return Future.failedFuture(failure);
    }
    if (canLogin()) {
      LOG.atInfo()
          .setMessage("Vault rejected the token; logging in again")
          .addKeyValue("path", path)
          .log();
      return relogin(c).compose(fresh -> run(method, path, fresh, call));
    }
    refusedToken(c, "Vault refused it (403 invalid token) on " + path);
    return tokenFile.isEmpty()
        ? Future.failedFuture(failure)
        : current().compose(fresh -> run(method, path, fresh, call));
  }

  /**
   * Whether Vault can serve the broker now: {@code sys/health} (asked without a token) must show a
   * node that may serve reads (active, standby or performance standby), the broker must have a
   * usable token, and a credential read must work there (a read of {@link #PROBE_KEY}, which does
   * not exist: 404 is the expected answer).
   *
   * @return what Vault is (e.g. "Vault is a performance standby (sys/health 473); credential reads
   *     work"); fails with a {@link VaultFailure} naming what is wrong
   */
  Future<String> checkHealth() {
    Vault anonymous = Vault.create(driver.settings(null, 1, 0), 1);
    return onWorker("GET", "sys/health", () -> health(anonymous))
        .recover(failure -> Future.failedFuture(translate(failure, "GET", "sys/health")))
        .compose(
            health -> {
              noteState(health);
              if (!health.mayServeReads()) {
                return Future.failedFuture(health.failure());
              }
              return probeRead().map(read -> health.describe() + "; credential reads work");
            });
  }

  private static VaultHealth health(Vault anonymous) throws VaultException {
    try {
      HealthResponse response = anonymous.debug().health();
      RestResponse rest = response.getRestResponse();
      byte[] body = rest.getBody();
      JsonObject json =
          body == null || body.length == 0
              ? null
              : new JsonObject(new String(body, StandardCharsets.UTF_8));
      return VaultHealth.of(rest.getStatus(), json);
    } catch (VaultException e) {
      // the driver refuses codes it does not know (474, 530) before reading the body
      if (e.getHttpStatusCode() == 474 || e.getHttpStatusCode() == 530) {
        return VaultHealth.of(e.getHttpStatusCode(), null);
      }
      throw e;
    }
  }

  private void noteState(VaultHealth health) {
    VaultHealth.State previous;
    synchronized (this) {
      previous = lastState;
      lastState = health.state();
    }
    if (previous != null && previous != health.state()) {
      LOG.atWarn()
          .setMessage("Vault changed state")
          .addKeyValue("state", health.describe())
          .addKeyValue("previous", previous)
          .log();
    }
  }

  private Future<Void> probeRead() {
    String path = config.kvMount() + "/data/" + PROBE_KEY;
    return callQuietly(
        "GET",
        path,
        c -> {
          LogicalResponse response = c.kv().logical().read(config.kvMount() + "/" + PROBE_KEY);
          int status = response.getRestResponse().getStatus();
          if (status != 404) {
            check(response.getRestResponse(), "GET", path);
          }
          return null;
        });
  }

  /**
   * Renews the token now (what the timer does at two thirds of its TTL): an AppRole session logs in
   * again when the renewal no longer extends it; a given or file token is then left to run out (and
   * marked unusable when it does). Exposed to tests so they need not wait for the timer.
   */
  Future<Void> renewNow() {
    Clients c = clients;
    if (c == null) {
      return current().mapEmpty();
    }
    if (!c.renewable()) {
      if (canLogin()) {
        return relogin(c).mapEmpty();
      }
      scheduleExpiry(c);
      return Future.succeededFuture();
    }
    return run(
            "POST",
            "auth/token/renew-self",
            c,
            cl -> {
              long sentAt = System.nanoTime();
              return new Renewal(cl.raw().auth().renewSelf(), sentAt);
            })
        .compose(renewal -> renewed(c, renewal.response(), renewal.sentAtNanos()))
        .recover(failure -> renewalFailed(c, failure));
  }

  /** A renewal's answer and when it was sent (Vault's TTL counts from before it arrived). */
  private record Renewal(AuthResponse response, long sentAtNanos) {}

  private Future<Void> renewed(Clients c, AuthResponse renewed, long sentAtNanos) {
    long ttl = renewed.getAuthLeaseDuration();
    boolean capped = ttl < c.fullTtlSeconds();
    if (capped && canLogin()) {
      LOG.atInfo()
          .setMessage("Vault token is near its max TTL; logging in again")
          .addKeyValue("ttlSeconds", ttl)
          .log();
      return relogin(c).mapEmpty();
    }
    Clients now = c.renewed(ttl, renewed.isAuthRenewable() && !capped, sentAtNanos);
    synchronized (this) {
      if (clients != c) {
        return Future.succeededFuture();
      }
      clients = now;
      retryDelay = MIN_RETRY;
    }
    if (capped) {
      // renewing again would only shorten the wait (each answer is capped at the same end):
      // leave the token to run out, and tell the operator once how long it has
      warnCapped(ttl);
      scheduleExpiry(now);
    } else {
      LOG.atDebug().setMessage("Vault token renewed").addKeyValue("ttlSeconds", ttl).log();
      schedule(renewalDelay(ttl));
    }
    return Future.succeededFuture();
  }

  private Future<Void> renewalFailed(Clients c, Throwable failure) {
    if (canLogin()) {
      LOG.atWarn()
          .setMessage("Vault token renewal failed; logging in again")
          .addKeyValue("reason", describe(failure))
          .log();
      return relogin(c).mapEmpty();
    }
    if (failure instanceof VaultFailure f && f.kind() == VaultFailure.Kind.INVALID_TOKEN) {
      refusedToken(c, "Vault refused its renewal (403 invalid token)");
      return tokenFile.isPresent() ? current().mapEmpty() : Future.failedFuture(failure);
    }
    LOG.atWarn()
        .setMessage("Vault token renewal failed; retrying until the token runs out")
        .addKeyValue("reason", describe(failure))
        .addKeyValue("remainingSeconds", c.remainingMillis() / 1000)
        .log();
    scheduleRetry(c);
    return Future.failedFuture(failure);
  }

  /**
   * Adopts a new token from {@code VAULT_TOKEN_FILE} when the file changed (the watcher calls this
   * every second). Nothing happens when the file is unchanged, holds the token in use, or holds one
   * Vault already refused.
   *
   * @return completes when the check (and an adoption) is done; never fails
   */
  Future<Void> checkTokenFile() {
    if (tokenFile.isEmpty()) {
      return Future.succeededFuture();
    }
    TokenFile file = tokenFile.get();
    return worker
        .executeBlocking(
            () -> {
              TokenFile.Stamp stamp = file.stamp();
              synchronized (this) {
                if (stamp == null || stamp.equals(fileStamp)) {
                  return false;
                }
              }
              return true;
            },
            false)
        .compose(changed -> changed ? adoptFromFile() : Future.succeededFuture())
        .otherwiseEmpty()
        .mapEmpty();
  }

  private Future<Void> adoptFromFile() {
    return authenticate()
        .<Void>map(
            adopted -> {
              LOG.atInfo()
                  .setMessage("adopted the Vault token written to VAULT_TOKEN_FILE")
                  .addKeyValue("ttlSeconds", adopted.ttlSeconds())
                  .log();
              return null;
            });
  }

  /** Cancels the renewal timer, stops watching the token file and closes the worker pool. */
  public Future<Void> close() {
    String watching;
    synchronized (this) {
      closed = true;
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
      watching = watcher;
      watcher = null;
    }
    Future<Void> unwatched =
        watching == null ? Future.succeededFuture() : vertx.undeploy(watching).otherwiseEmpty();
    return unwatched.transform(done -> worker.close());
  }

  private Future<Clients> current() {
    Clients c = clients;
    if (c != null) {
      return Future.succeededFuture(c);
    }
    String problem = tokenProblem;
    if (problem != null && !canLogin() && tokenFile.isEmpty()) {
      return Future.failedFuture(noToken());
    }
    return authenticate();
  }

  private synchronized Future<Clients> relogin(Clients stale) {
    if (clients != stale && clients != null) {
      return Future.succeededFuture(clients);
    }
    clients = null;
    return authenticate();
  }

  /** One login (or token lookup) at a time; concurrent callers share it. */
  private synchronized Future<Clients> authenticate() {
    if (login != null) {
      return login;
    }
    Future<Clients> attempt =
        onWorker("POST", loginPath(), this::blockingAuthenticate)
            .recover(failure -> Future.failedFuture(translate(failure, "POST", loginPath())));
    login = attempt;
    attempt.onComplete(
        result -> {
          synchronized (this) {
            login = null;
            if (result.succeeded()) {
              authenticated(result.result());
            } else if (canLogin()) {
              scheduleRetry(null);
            }
          }
        });
    return attempt;
  }

  /** Called under the monitor when a login or token lookup succeeded. */
  private void authenticated(Clients fresh) {
    String wasDown = tokenProblem;
    clients = fresh;
    tokenProblem = null;
    cappedWarned = false;
    retryDelay = MIN_RETRY;
    LOG.atInfo()
        .setMessage(
            canLogin()
                ? "logged in to Vault (AppRole)"
                : tokenFile.isPresent()
                    ? "using the token in VAULT_TOKEN_FILE"
                    : "using VAULT_TOKEN")
        .addKeyValue("ttlSeconds", fresh.ttlSeconds())
        .addKeyValue("renewable", fresh.renewable())
        .log();
    if (wasDown != null) {
      LOG.atWarn().setMessage("the broker has a usable Vault token again").log();
    }
    if (fresh.expiresAtNanos() == Long.MAX_VALUE) {
      return;
    }
    if (canLogin() || (fresh.renewable() && fresh.ttlSeconds() > 0)) {
      schedule(renewalDelay(fresh.ttlSeconds()));
    } else {
      scheduleExpiry(fresh);
    }
  }

  private Clients blockingAuthenticate() throws VaultException {
    // a TTL counts from when Vault answered, which is after the request was sent: counting from
    // the sending, the broker never thinks a token valid that Vault has already let run out
    long sentAt = System.nanoTime();
    if (canLogin()) {
      Vault anonymous = Vault.create(driver.settings(null, 1, 0), 1);
      AuthResponse auth =
          anonymous
              .auth()
              .loginByAppRole(
                  config.appRoleMount(),
                  config.roleId().orElseThrow(),
                  config.secretId().orElseThrow().reveal());
      long ttl = auth.getAuthLeaseDuration();
      return clients(
          Secret.of(auth.getAuthClientToken()), ttl, auth.isAuthRenewable(), ttl, ttl > 0, sentAt);
    }
    Secret token = givenToken();
    synchronized (this) {
      if (refused.contains(token)) {
        // Vault refused this token already: sending it again could only be refused again
        throw noToken();
      }
    }
    Vault raw = Vault.create(driver.settings(token, 1, 0), 1);
    LookupResponse self;
    try {
      self = raw.auth().lookupSelf();
      int status = self.getRestResponse().getStatus();
      if (status != 200) {
        throw VaultFailure.of(
            status, errorBody(self.getRestResponse()), "GET", "auth/token/lookup-self");
      }
    } catch (VaultException | VaultFailure e) {
      // the driver throws for a non-200 lookup (403 included)
      Throwable failure = translate(e, "GET", "auth/token/lookup-self");
      if (failure instanceof VaultFailure f && f.kind() == VaultFailure.Kind.INVALID_TOKEN) {
        markUnusable(token, "Vault refused it (403 invalid token)");
      }
      throw e;
    }
    long creationTtl = self.getCreationTTL();
    // a TTL of 0 is a token without one (root), unless it was created with one: then it is in its
    // last second
    return clients(
        token,
        self.getTTL(),
        self.isRenewable(),
        creationTtl > 0 ? creationTtl : self.getTTL(),
        creationTtl > 0 || self.getTTL() > 0,
        sentAt);
  }

  /** The token of a {@code VAULT_TOKEN}/{@code VAULT_TOKEN_FILE} session (blocking). */
  private Secret givenToken() {
    if (tokenFile.isEmpty()) {
      return config.token().orElseThrow();
    }
    TokenFile file = tokenFile.get();
    TokenFile.Stamp stamp = file.stamp();
    try {
      Secret token = file.read();
      synchronized (this) {
        fileStamp = stamp;
        fileProblem = null;
      }
      return token;
    } catch (TokenFile.Unusable e) {
      synchronized (this) {
        fileStamp = stamp;
        if (!e.getMessage().equals(fileProblem)) {
          fileProblem = e.getMessage();
          LOG.atError()
              .setMessage(
                  "the broker has no Vault token: "
                      + e.getMessage()
                      + ". Point VAULT_TOKEN_FILE at the file a Vault Agent sink writes")
              .log();
        }
        if (tokenProblem == null && clients == null) {
          tokenProblem = "VAULT_TOKEN_FILE holds no usable token";
        }
      }
      throw noToken();
    }
  }

  private Clients clients(
      Secret token,
      long ttlSeconds,
      boolean renewable,
      long fullTtl,
      boolean expires,
      long sentAtNanos) {
    return new Clients(
        token,
        Vault.create(driver.settings(token, 2, kvPrefixDepth), 2),
        Vault.create(driver.settings(token, 1, 0), 1),
        ttlSeconds,
        renewable,
        fullTtl,
        expires ? sentAtNanos + TimeUnit.SECONDS.toNanos(ttlSeconds) : Long.MAX_VALUE);
  }

  /** Vault refused the token {@code c} carries: never send it again. */
  private void refusedToken(Clients c, String why) {
    markUnusable(c.token(), why);
  }

  /**
   * Marks {@code token} unusable (refused by Vault, or its TTL ran out): it is never sent again; if
   * it is the token in use, the session has none until a new one arrives, readiness says so, and
   * the operator is told once at ERROR what to do.
   */
  private synchronized void markUnusable(Secret token, String why) {
    refused.add(token);
    if (refused.size() > REFUSED_KEPT) {
      Iterator<Secret> oldest = refused.iterator();
      oldest.next();
      oldest.remove();
    }
    if (canLogin() || (clients != null && !clients.token().equals(token))) {
      return;
    }
    clients = null;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    if (tokenProblem != null) {
      return;
    }
    tokenProblem = "the broker's Vault token can no longer be used: " + why;
    LOG.atError()
        .setMessage(
            tokenFile.isPresent()
                ? "the Vault token in VAULT_TOKEN_FILE can no longer be used ("
                    + why
                    + "); credential reads and rotations fail with 503 until a new token is"
                    + " written to "
                    + tokenFile.get().path()
                    + ". Check the Vault Agent that writes it (auto-auth and its file sink)"
                : "VAULT_TOKEN can no longer be used ("
                    + why
                    + "); credential reads and rotations fail with 503 until the broker is"
                    + " restarted with a new token. To avoid this, let a Vault Agent keep a"
                    + " token in a file (VAULT_TOKEN_FILE) or use AppRole"
                    + " (VAULT_ROLE_ID/VAULT_SECRET_ID)")
        .log();
  }

  private void warnCapped(long ttlSeconds) {
    synchronized (this) {
      if (cappedWarned) {
        return;
      }
      cappedWarned = true;
    }
    LOG.atWarn()
        .setMessage(
            tokenFile.isPresent()
                ? "the Vault token in VAULT_TOKEN_FILE reached its max TTL and runs out soon;"
                    + " the Vault Agent should write a new one before then"
                : "VAULT_TOKEN reached its max TTL and runs out soon; the broker must then be"
                    + " restarted with a new token")
        .addKeyValue("ttlSeconds", ttlSeconds)
        .log();
  }

  private <T> Future<T> run(String method, String path, Clients c, VaultCall<T> call) {
    return onWorker(method, path, () -> call.call(c))
        .recover(failure -> Future.failedFuture(translate(failure, method, path)));
  }

  /**
   * Runs a blocking call to Vault on the worker, where its time counts from when it was asked, not
   * from when a worker thread took it: a call that has already waited {@code VAULT_TIMEOUT} for a
   * thread fails with {@link VaultFailure.Kind#UNREACHABLE} without calling Vault. Without this,
   * while Vault hangs each call holds a thread for the whole timeout, and a request whose read is
   * queued behind the reads of many stores waits for every one of them to time out in turn (its
   * wait grows with the number of stores, not with the timeout). With it, no caller waits much
   * longer than twice the timeout, and a hung Vault drains the queue instead of filling it.
   *
   * @return the call's result; fails with what it threw, or the {@link VaultFailure} above
   */
  private <T> Future<T> onWorker(String method, String path, Callable<T> call) {
    long asked = System.nanoTime();
    return worker.executeBlocking(
        () -> {
          if (System.nanoTime() - asked >= queueLimitNanos) {
            throw new VaultFailure(VaultFailure.Kind.UNREACHABLE, 0, method, path);
          }
          return call.call();
        },
        false);
  }

  private static VaultFailure noToken() {
    return new VaultFailure(VaultFailure.Kind.NO_TOKEN, 0, "-", "auth/token");
  }

  private String loginPath() {
    return canLogin() ? "auth/" + config.appRoleMount() + "/login" : "auth/token/lookup-self";
  }

  private synchronized void schedule(Duration delay) {
    schedule(delay, this::renewNow);
  }

  private synchronized void schedule(Duration delay, Runnable action) {
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
              action.run();
            });
  }

  /**
   * Retries after a failed login or renewal, backing off from 2 s to 60 s; a given token's retries
   * never go past the moment its TTL runs out ({@code c}: the clients whose renewal failed).
   */
  private synchronized void scheduleRetry(Clients c) {
    Duration delay = retryDelay;
    retryDelay =
        retryDelay.multipliedBy(2).compareTo(MAX_RETRY) > 0
            ? MAX_RETRY
            : retryDelay.multipliedBy(2);
    if (c != null && c.remainingMillis() <= delay.toMillis()) {
      scheduleExpiry(c);
      return;
    }
    schedule(delay);
  }

  /** When {@code c}'s TTL runs out, its token is marked unusable (no request is made for that). */
  private synchronized void scheduleExpiry(Clients c) {
    long remaining = c.remainingMillis();
    if (remaining == Long.MAX_VALUE) {
      return;
    }
    schedule(Duration.ofMillis(Math.max(1, remaining)), () -> expired(c));
  }

  private void expired(Clients c) {
    if (clients == c) {
      markUnusable(c.token(), "its TTL ran out (" + c.ttlSeconds() + " s after the last renewal)");
      if (tokenFile.isPresent()) {
        current();
      }
    }
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
      case NOT_FOUND, CAS_MISMATCH, NO_TOKEN -> {}
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
    // the caller logs the classified failure; the driver's own exception is for debugging only
    LOG.atDebug()
        .setMessage("Vault driver call failed without an answer")
        .addKeyValue("method", method)
        .addKeyValue("path", path)
        .addKeyValue("error", failure.getClass().getName())
        .log();
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
}

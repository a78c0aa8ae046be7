package io.refundbroker.credential;

import io.micrometer.core.instrument.MeterRegistry;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.audit.signing.CheckpointSigner;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.db.Database;
import io.refundbroker.http.Api;
import io.refundbroker.http.Feature;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.store.StoreService;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credential feature, wired: the configured backend ({@code CREDENTIALS_BACKEND}), the cache in
 * front of it, the cross-instance invalidation listener, the admin service and its routes, and the
 * key ages. {@code BrokerApp} builds one at start and closes it at stop.
 */
public final class Credentials implements Feature {
  private static final Logger LOG = LoggerFactory.getLogger(Credentials.class);

  private final CredentialBackend backend;
  private final CredentialCache cache;
  private final CredentialInvalidations invalidations;
  private final CredentialService service;
  private final CredentialAges ages;
  private final Optional<CheckpointSigner> transitSigner;

  private Credentials(
      CredentialBackend backend,
      CredentialCache cache,
      CredentialInvalidations invalidations,
      CredentialAges ages,
      CredentialService service,
      Optional<CheckpointSigner> transitSigner) {
    this.backend = backend;
    this.cache = cache;
    this.invalidations = invalidations;
    this.service = service;
    this.ages = ages;
    ages.refresh();
    this.transitSigner = transitSigner;
  }

  /**
   * Starts the invalidation listener and builds the service on the backend {@code opened} (which
   * {@code app} chose: {@code CREDENTIALS_BACKEND}).
   *
   * @param vipps proves rotated keys and forgets access tokens after a change
   * @return fails when the backend cannot be opened (unusable key file or TLS settings); a Vault
   *     that is down at start does not fail it (readiness reports it)
   */
  public static Future<Credentials> start(
      Vertx vertx,
      BrokerConfig config,
      Database database,
      Future<CredentialBackend> opened,
      AuditLog audit,
      StoreService stores,
      VippsGateway vipps,
      MeterRegistry registry,
      Clock clock) {
    return opened.compose(
        backend -> {
          CredentialCache cache =
              new CredentialCache(backend, config.credentials().cacheTtl(), clock);
          return CredentialInvalidations.start(
                  vertx,
                  database.connectOptions(),
                  changed -> {
                    KeyHolder holder = changedHolder(changed);
                    cache.invalidate(holder);
                    vipps.forgetTokens(holder);
                  },
                  // notifications may have been missed: keys and the tokens made with them
                  () -> {
                    cache.invalidateAll();
                    vipps.forgetAllTokens();
                  })
              .map(
                  listener ->
                      new Credentials(
                          backend,
                          cache,
                          listener,
                          new CredentialAges(
                              stores, backend, registry, clock, config.credentials().maxAge()),
                          new CredentialService(
                              database.pool(),
                              stores,
                              backend,
                              cache,
                              listener,
                              vipps,
                              audit,
                              clock),
                          backend.checkpointSigner()));
        });
  }

  /**
   * The holder a change notification names: {@link KeyHolder#key()}, or a bare MSN (what brokers
   * before partner keys sent).
   */
  static KeyHolder changedHolder(String changed) {
    return changed.indexOf(':') >= 0 ? KeyHolder.fromKey(changed) : KeyHolder.salesUnit(changed);
  }

  /** The cached read side for the refund flow. */
  public CredentialProvider provider() {
    return cache;
  }

  public CredentialService service() {
    return service;
  }

  /** The age of every store's current keys, for admins and as Prometheus gauges. */
  public CredentialAges ages() {
    return ages;
  }

  @Override
  public void mount(Api api) {
    new CredentialRoutes(service).mount(api);
    new CredentialAgeRoutes(ages).mount(api);
  }

  /** The broker's own secrets (CA key, audit MAC key), kept by the configured backend. */
  public BrokerSecrets brokerSecrets() {
    return backend::brokerSecret;
  }

  /**
   * The backend's readiness (Vault serving reads with a usable token; local table readable).
   *
   * @return what the backend's state is; fails with 503 {@code CREDENTIALS_UNAVAILABLE}
   */
  public Future<String> checkReady() {
    return backend.checkReady();
  }

  /** With the Vault backend, a checkpoint signer backed by Vault Transit. */
  public Optional<CheckpointSigner> transitSigner() {
    return transitSigner;
  }

  /** Whether this instance currently receives other instances' invalidations. */
  public boolean listening() {
    return invalidations.listening();
  }

  public Future<Void> close() {
    return Future.join(invalidations.close(), backend.close()).mapEmpty();
  }
}

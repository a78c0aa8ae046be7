package io.refundbroker.app;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.refundbroker.audit.AuditFeature;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.audit.AuditMac;
import io.refundbroker.audit.AuditMacKey;
import io.refundbroker.audit.AuditSequencer;
import io.refundbroker.audit.CheckpointService;
import io.refundbroker.audit.signing.CheckpointSigner;
import io.refundbroker.audit.signing.LocalKeyFileSigner;
import io.refundbroker.auth.ClientFeature;
import io.refundbroker.auth.certificate.ClientCa;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.BrokerConfig.ClientAuthMode;
import io.refundbroker.config.BrokerConfig.TlsConfig;
import io.refundbroker.config.BrokerConfig.VippsConfig;
import io.refundbroker.console.ConsoleRoutes;
import io.refundbroker.credential.BrokerSecrets;
import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.credential.Credentials;
import io.refundbroker.credential.backends.CredentialBackends;
import io.refundbroker.db.Database;
import io.refundbroker.db.SqlErrors;
import io.refundbroker.error.ProblemException;
import io.refundbroker.http.Api;
import io.refundbroker.http.Feature;
import io.refundbroker.http.HttpVerticle;
import io.refundbroker.http.OperationsRoutes;
import io.refundbroker.http.Readiness;
import io.refundbroker.http.ServerTls;
import io.refundbroker.http.TlsReloadVerticle;
import io.refundbroker.http.UploadSlots;
import io.refundbroker.order.OrderFeature;
import io.refundbroker.refund.RefundFeature;
import io.refundbroker.refund.RefundReconciler;
import io.refundbroker.refund.RefundRepository;
import io.refundbroker.store.StoreFeature;
import io.refundbroker.store.StoreRepository;
import io.refundbroker.vipps.VippsClient;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.ext.web.Router;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.sqlclient.Pool;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the broker as a list of features (audit, store, client, credential, order, refund), each
 * built by its own factory from its dependencies (explicitly, no container): mounts every feature's
 * routes on the contract, deploys the features' background verticles (audit sequencer and
 * checkpointer, refund reconciler) and one HTTP verticle per configured instance. {@link Main} runs
 * it in production; the integration tests run the very same wiring.
 */
public final class BrokerApp {
  private static final Logger LOG = LoggerFactory.getLogger(BrokerApp.class);

  /** Bounded worker pool for audit signing (key file) and verification hashing. */
  private static final String AUDIT_WORKER = "audit-worker";

  /** Bounded worker pool for the client CA's BouncyCastle work (key generation, CSRs, issuing). */
  private static final String CA_WORKER = "client-ca";

  /** One worker that reads and checks the TLS PEM files (at start and on each reload). */
  private static final String TLS_WORKER = "tls-loader";

  private final Vertx vertx;
  private final Components components;
  private final List<String> deployments;
  private final int httpPort;
  private final Optional<String> generatedAdminToken;
  private final Optional<Path> generatedAdminTokenFile;
  private final Optional<TlsReloadVerticle> tlsReload;

  private BrokerApp(
      Vertx vertx,
      Components components,
      Deployed deployed,
      Optional<String> generatedAdminToken,
      Optional<Path> generatedAdminTokenFile) {
    this.vertx = vertx;
    this.components = components;
    this.deployments = deployed.ids();
    this.httpPort = deployed.port();
    this.generatedAdminToken = generatedAdminToken;
    this.generatedAdminTokenFile = generatedAdminTokenFile;
    this.tlsReload = deployed.tlsReload();
  }

  /**
   * Starts the broker on {@code vertx} against an already migrated {@code database}, talking to
   * Vipps at {@code VIPPS_BASE_URL}.
   *
   * @return the running broker; fails when a dependency is unusable or the contract has an
   *     operation without a handler
   */
  public static Future<BrokerApp> start(
      Vertx vertx,
      BrokerConfig config,
      Database database,
      PrometheusMeterRegistry registry,
      Clock clock) {
    VippsClient vipps = new VippsClient(vertx, config.vipps(), registry, clock);
    return start(vertx, config, database, registry, clock, vipps)
        .onFailure(failure -> vipps.close())
        .onSuccess(app -> app.components.onStop.add(vipps::close));
  }

  /** Starts the broker with {@code vipps} as its Vipps gateway. */
  private static Future<BrokerApp> start(
      Vertx vertx,
      BrokerConfig config,
      Database database,
      PrometheusMeterRegistry registry,
      Clock clock,
      VippsGateway vipps) {
    WorkerExecutor auditWorker = vertx.createSharedWorkerExecutor(AUDIT_WORKER, 2);
    WorkerExecutor caWorker = vertx.createSharedWorkerExecutor(CA_WORKER, 2);
    WorkerExecutor tlsWorker = vertx.createSharedWorkerExecutor(TLS_WORKER, 1);
    // the audit MAC key is kept by the credential backend, which itself appends audit events: it is
    // loaded on first use (and again after a failed load), so a broker started while Vault is down
    // comes up unready and recovers without a restart
    Promise<BrokerSecrets> secrets = Promise.promise();
    AuditMacKey macKey =
        new AuditMacKey(
            () ->
                secrets
                    .future()
                    .compose(s -> s.getOrCreate(AuditMac.SECRET, AuditMac.newKey(auditWorker)))
                    .compose(AuditMac::fromSecret));
    AuditLog audit = new AuditLog(clock, macKey);
    StoreFeature stores = StoreFeature.create(database.pool(), new StoreRepository(), audit);
    Workers workers = new Workers(auditWorker, caWorker, tlsWorker);
    return CredentialBackends.start(
            vertx, config, database, audit, stores.service(), vipps, registry, clock)
        .compose(
            credentials ->
                firstLoad(macKey, secrets, credentials)
                    .compose(loaded -> checkpointSigner(config, credentials, auditWorker))
                    .map(
                        signer ->
                            new Components(
                                vertx,
                                config,
                                database,
                                registry,
                                clock,
                                new AuditKeys(audit, macKey, signer),
                                stores,
                                vipps,
                                credentials,
                                workers))
                    .compose(components -> components.launch())
                    .onFailure(failure -> credentials.close()))
        .onFailure(failure -> workers.close());
  }

  /** The bounded worker pools of one broker process. */
  private record Workers(WorkerExecutor audit, WorkerExecutor ca, WorkerExecutor tls) {
    Future<Void> close() {
      return Future.join(audit.close(), ca.close(), tls.close()).mapEmpty();
    }
  }

  /** The audit trail: its log, the MAC key every event carries, the checkpoint signer. */
  private record AuditKeys(AuditLog log, AuditMacKey mac, CheckpointSigner signer) {}

  /**
   * Binds the MAC key to the credential backend and waits for its first load. A failed load does
   * not stop the start: nothing can be recorded until the key can be read, which readiness reports
   * ({@code audit}), and every use tries again.
   */
  private static Future<Void> firstLoad(
      AuditMacKey macKey, Promise<BrokerSecrets> secrets, Credentials credentials) {
    secrets.complete(credentials.brokerSecrets());
    return macKey
        .get()
        .<Void>transform(
            loaded -> {
              if (loaded.failed()) {
                LOG.atWarn()
                    .setMessage(
                        "the audit MAC key cannot be read from the credential store yet: nothing"
                            + " can be recorded (and so nothing changed) until it can; readiness"
                            + " reports it, and the broker retries on every use")
                    .addKeyValue("reason", loaded.cause().getMessage())
                    .log();
              }
              return Future.succeededFuture();
            });
  }

  /**
   * The signer of audit checkpoints: Vault Transit with the Vault backend (the key never leaves
   * Vault), the Ed25519 key file {@code AUDIT_SIGNING_KEY_FILE} with the local backend.
   */
  private static Future<CheckpointSigner> checkpointSigner(
      BrokerConfig config, Credentials credentials, WorkerExecutor worker) {
    if (config.credentials().backend() == BrokerConfig.CredentialsBackend.VAULT) {
      return credentials
          .transitSigner()
          .<Future<CheckpointSigner>>map(Future::succeededFuture)
          .orElseGet(
              () ->
                  Future.failedFuture(
                      new IllegalStateException("the Vault backend offers no Transit signer")));
    }
    return LocalKeyFileSigner.open(config.audit().signingKeyFile(), worker).map(signer -> signer);
  }

  private static Future<BrokerApp> launch(
      Vertx vertx, BrokerConfig config, Components components, Supplier<Router> routers) {
    Path tokenFile = AdminTokenFile.path(config.dataDir());
    Future<Optional<String>> admin = components.bootstrap.start();
    return admin
        .compose(token -> serverTls(config, components))
        .compose(
            settings ->
                components
                    .deployFeatures()
                    .compose(deployed -> deployHttp(vertx, config, components, routers, settings)))
        .map(
            http ->
                new BrokerApp(
                    vertx,
                    components,
                    http,
                    admin.result(),
                    admin.result().map(generated -> tokenFile)));
  }

  /**
   * The HTTPS settings, when {@code BROKER_TLS_CERT} is set. The client CA is loaded (created on
   * the first start) either way.
   */
  private static Future<Optional<ServerTls>> serverTls(BrokerConfig config, Components components) {
    if (config.tls().enabled()) {
      return components.loadTls().map(Optional::of);
    }
    if (!BrokerConfig.isLoopback(config.http().host())) {
      LOG.atWarn()
          .setMessage(
              "BROKER_ALLOW_PLAINTEXT=true: serving plain HTTP on a public interface; a proxy in"
                  + " front of the broker must terminate TLS (client certificates are not"
                  + " available this way)")
          .addKeyValue("host", config.http().host())
          .log();
    }
    return components.clientTrust().map(ca -> Optional.empty());
  }

  private record Deployed(List<String> ids, int port, Optional<TlsReloadVerticle> tlsReload) {}

  private static Future<Deployed> deployHttp(
      Vertx vertx,
      BrokerConfig config,
      Components components,
      Supplier<Router> routers,
      Optional<ServerTls> tls) {
    List<HttpVerticle> verticles = new ArrayList<>();
    List<Future<String>> deployed = new ArrayList<>();
    for (int i = 0; i < config.http().instances(); i++) {
      HttpVerticle verticle =
          new HttpVerticle(
              routers,
              config.http().host(),
              config.http().port(),
              config.http().shutdownGrace(),
              tls);
      verticles.add(verticle);
      deployed.add(vertx.deployVerticle(verticle, new DeploymentOptions()));
    }
    Future<List<String>> ids =
        Future.all(deployed)
            .map(
                all -> {
                  List<String> list = new ArrayList<>();
                  deployed.forEach(f -> list.add(f.result()));
                  return list;
                });
    Future<Optional<TlsReloadVerticle>> reload =
        ids.compose(
            listening ->
                tls.isEmpty()
                    ? Future.succeededFuture(Optional.empty())
                    : deployReload(vertx, config, components, tls.get(), verticles));
    return reload.map(
        reloader -> {
          List<String> all = new ArrayList<>(ids.result());
          int port = verticles.get(0).actualPort();
          LOG.atInfo()
              .setMessage("refund-broker listening")
              .addKeyValue("host", config.http().host())
              .addKeyValue("port", port)
              .addKeyValue("instances", verticles.size())
              .addKeyValue("scheme", tls.isPresent() ? "https" : "http")
              .addKeyValue("clientAuth", config.tls().clientAuth().name().toLowerCase())
              .log();
          return new Deployed(all, port, reloader);
        });
  }

  private static Future<Optional<TlsReloadVerticle>> deployReload(
      Vertx vertx,
      BrokerConfig config,
      Components components,
      ServerTls current,
      List<HttpVerticle> servers) {
    TlsConfig tls = config.tls();
    TlsReloadVerticle reloader =
        new TlsReloadVerticle(
            current,
            components::loadTls,
            tls.certFile().orElseThrow(),
            tls.keyFile().orElseThrow(),
            servers,
            tls.reloadCheckInterval());
    return vertx
        .deployVerticle(reloader, new DeploymentOptions())
        .map(
            id -> {
              components.tlsReloadDeployment = id;
              return Optional.of(reloader);
            });
  }

  /** The port the HTTP API listens on. */
  public int httpPort() {
    return httpPort;
  }

  /** The stores' Vipps keys as the refund flow reads them (cached, fail closed). */
  public CredentialProvider credentials() {
    return components.credentials.provider();
  }

  /** The audit MAC (in-process tests use it to build genuine events; it never reveals its key). */
  public AuditMac auditMac() {
    Future<AuditMac> key = components.mac.get();
    if (!key.succeeded()) {
      throw new IllegalStateException("the audit MAC key is not loaded");
    }
    return key.result();
  }

  /** The checkpointer's service (tests ask for a checkpoint now). */
  public CheckpointService auditCheckpoints() {
    return components.audit.checkpoints();
  }

  /** The audit sequencer of this instance (tests ask whether it leads). */
  public AuditSequencer auditSequencer() {
    return components.audit.sequencer();
  }

  /** The refund janitor (tests drive passes with {@link RefundReconciler#runOnce()}). */
  public RefundReconciler reconciler() {
    return components.refunds.reconciler();
  }

  /**
   * The admin token generated at this start, if one was (it is also in {@link
   * #generatedAdminTokenFile}).
   */
  public Optional<String> generatedAdminToken() {
    return generatedAdminToken;
  }

  /** The 0600 file the admin token generated at this start was written to, if one was. */
  public Optional<Path> generatedAdminTokenFile() {
    return generatedAdminTokenFile;
  }

  /**
   * Reads {@code BROKER_TLS_CERT}/{@code BROKER_TLS_KEY} again and serves the new certificate
   * without closing the listener (SIGHUP).
   *
   * @return fails when the files do not check out (the previous certificate stays) or TLS is off
   */
  public Future<Void> reloadTls() {
    return tlsReload
        .map(TlsReloadVerticle::reloadNow)
        .orElseGet(
            () ->
                Future.failedFuture(
                    new IllegalStateException("TLS is off: BROKER_TLS_CERT is not set")));
  }

  /**
   * Stops accepting requests and lets in-flight ones finish (within {@code BROKER_SHUTDOWN_GRACE}),
   * then undeploys the features' background verticles in reverse order (the reconciler, then the
   * audit sequencer, which links the committed events, then the checkpointer, which signs a last
   * checkpoint), then closes the credential store, the Vipps client and the pool.
   */
  public Future<Void> stop() {
    components.bootstrap.stop();
    List<Future<Void>> undeployed = new ArrayList<>();
    for (String id : deployments) {
      undeployed.add(vertx.undeploy(id));
    }
    return Future.join(undeployed)
        .transform(done -> components.undeployFeatures())
        .transform(
            done ->
                components.tlsReloadDeployment == null
                    ? Future.succeededFuture()
                    : vertx.undeploy(components.tlsReloadDeployment))
        .transform(done -> components.workers.close())
        .transform(done -> components.credentials.close())
        .transform(done -> closeRest());
  }

  private Future<Void> closeRest() {
    components.onStop.forEach(Runnable::run);
    return components.database.close();
  }

  /**
   * Every feature of one broker process, built once and shared by the HTTP verticles. The broker is
   * this list of features: each one's routes are mounted on every router, its verticles deployed
   * before the HTTP verticles and undeployed after them.
   */
  private static final class Components {
    private final Vertx vertx;
    private final BrokerConfig config;
    private final Database database;
    private final Credentials credentials;
    private final ClientFeature clients;
    private final AuditFeature audit;
    private final RefundFeature refunds;
    private final List<Feature> features;
    private final AuditMacKey mac;
    private final AdminBootstrap bootstrap;
    private final Workers workers;
    private final ClientCa clientCa;
    private final List<String> featureDeployments = new ArrayList<>();
    private String tlsReloadDeployment;
    private final Readiness readiness;
    private final PrometheusMeterRegistry registry;
    private final ConsoleRoutes console = ConsoleRoutes.fromClasspath();
    private final UploadSlots uploads;
    private final List<Runnable> onStop = new ArrayList<>();

    Components(
        Vertx vertx,
        BrokerConfig config,
        Database database,
        PrometheusMeterRegistry registry,
        Clock clock,
        AuditKeys keys,
        StoreFeature stores,
        VippsGateway vipps,
        Credentials credentials,
        Workers workers) {
      this.vertx = vertx;
      this.config = config;
      this.database = database;
      this.registry = registry;
      this.credentials = credentials;
      this.workers = workers;
      this.mac = keys.mac();
      this.clientCa = new ClientCa(credentials.brokerSecrets(), workers.ca(), clock);
      this.uploads = new UploadSlots(config.http().maxConcurrentUploads());
      Pool pool = database.pool();
      StoreRepository storeRepository = new StoreRepository();
      RefundRepository refundRepository = new RefundRepository();
      AuditLog log = keys.log();
      this.clients = ClientFeature.create(pool, log, clientCa, config.tls().clientCertValidity());
      this.bootstrap = new AdminBootstrap(vertx, config, keys.mac(), clients.service());
      this.audit =
          AuditFeature.create(
              vertx,
              pool,
              database.connectOptions(),
              log,
              keys.mac(),
              keys.signer(),
              workers.audit(),
              registry,
              clock,
              config.audit());
      OrderFeature orders =
          OrderFeature.create(
              pool,
              storeRepository,
              RefundFeature.balances(refundRepository),
              credentials.provider(),
              vipps,
              log,
              clock,
              config.orders().lookupsPerMinute());
      this.refunds =
          RefundFeature.create(
              pool,
              refundRepository,
              storeRepository,
              orders,
              credentials.provider(),
              vipps,
              log,
              clock,
              config.refunds(),
              callBudget(config.vipps()));
      this.features = List.of(audit, stores, clients, credentials, orders, refunds);
      this.readiness = new Readiness(vertx);
      readiness.register("database", this::databaseReady);
      readiness.register("audit", this::auditReady);
      readiness.registerDescribed("credentials", credentials::checkReady);
    }

    /** Loads the contract, then starts serving it (see {@link BrokerApp#launch}). */
    Future<BrokerApp> launch() {
      return routerFactory().compose(routers -> BrokerApp.launch(vertx, config, this, routers));
    }

    /** Deploys every feature's background verticles, in the features' order. */
    Future<Void> deployFeatures() {
      Future<Void> chain = Future.succeededFuture();
      for (Feature feature : features) {
        for (Deployable verticle : feature.verticles()) {
          chain = chain.compose(v -> deploy(verticle));
        }
      }
      return chain;
    }

    private Future<Void> deploy(Deployable verticle) {
      return vertx
          .deployVerticle(verticle, new DeploymentOptions())
          .onSuccess(featureDeployments::add)
          .mapEmpty();
    }

    /** Undeploys the features' verticles in reverse order, each after the one deployed after it. */
    Future<Void> undeployFeatures() {
      Future<Void> chain = Future.succeededFuture();
      for (int i = featureDeployments.size() - 1; i >= 0; i--) {
        String id = featureDeployments.get(i);
        chain = chain.transform(done -> vertx.undeploy(id));
      }
      return chain;
    }

    /**
     * The client CA's certificate, the TLS handshake's trust anchor for client certificates. When
     * clients are asked for certificates a CA that cannot be loaded fails this; otherwise it is
     * only logged (enrolment loads it again on use).
     */
    Future<Optional<String>> clientTrust() {
      TlsConfig tls = config.tls();
      return clientCa
          .get()
          .map(ca -> Optional.of(ca.certificatePem()))
          .recover(
              failure -> {
                if (tls.enabled() && tls.clientAuth() != ClientAuthMode.NONE) {
                  return Future.failedFuture(failure);
                }
                LOG.atWarn()
                    .setMessage("client CA not loaded yet; certificate enrolment will try again")
                    .addKeyValue("reason", failure.getMessage())
                    .log();
                return Future.succeededFuture(Optional.empty());
              });
    }

    /** Reads and checks the TLS files on the {@code tls-loader} worker (at start and reloads). */
    Future<ServerTls> loadTls() {
      TlsConfig tls = config.tls();
      ClientAuth clientAuth =
          switch (tls.clientAuth()) {
            case NONE -> ClientAuth.NONE;
            case REQUEST -> ClientAuth.REQUEST;
            case REQUIRE -> ClientAuth.REQUIRED;
          };
      return clientTrust()
          .compose(
              trust ->
                  workers
                      .tls()
                      .executeBlocking(
                          () ->
                              ServerTls.read(
                                  vertx,
                                  tls.certFile().orElseThrow(),
                                  tls.keyFile().orElseThrow(),
                                  trust,
                                  clientAuth),
                          false));
    }

    /** Loads the contract and returns a factory of fully bound routers (one per verticle). */
    Future<Supplier<Router>> routerFactory() {
      return Api.loadContract(vertx)
          .compose(
              contract ->
                  vertx.fileSystem().readFile(Api.CONTRACT).map(text -> routers(contract, text)));
    }

    /**
     * A factory of routers, tried once now so that a contract without a handler fails the start.
     */
    private Supplier<Router> routers(OpenAPIContract contract, Buffer contractText) {
      Supplier<Router> routers = () -> router(contract, contractText);
      routers.get();
      return routers;
    }

    private Router router(OpenAPIContract contract, Buffer contractText) {
      Api api =
          new Api(
              vertx,
              contract,
              clients.authenticator(config.tls().clientAuth(), registry),
              config.http().maxBodyBytes(),
              config.http().maxImportBytes(),
              uploads,
              SqlErrors::unreachable);
      features.forEach(feature -> feature.mount(api));
      new OperationsRoutes(readiness, registry, contractText).mount(api);
      Router router = api.router();
      console.mount(router);
      return router;
    }

    /** The audit trail can record: its MAC key is loaded (trying again if it was not). */
    private Future<Void> auditReady() {
      return mac.get()
          .<Void>mapEmpty()
          .recover(
              failure ->
                  Future.failedFuture(
                      ProblemException.unavailable(
                          "AUDIT_KEY_UNAVAILABLE",
                          "the audit MAC key cannot be read from the credential store; nothing"
                              + " can be recorded until it can")));
    }

    private Future<Void> databaseReady() {
      return database
          .checkReady()
          .recover(
              failure ->
                  Future.failedFuture(
                      ProblemException.unavailable(
                          "DATABASE_UNAVAILABLE",
                          "database unreachable or its schema is not migrated")));
    }

    /**
     * The longest one Vipps call (with its retries) may take: a write-ahead refund is left to the
     * reconciler only after this, so the reconciler never races a request still waiting.
     */
    private static Duration callBudget(VippsConfig vipps) {
      Duration perAttempt = vipps.connectTimeout().plus(vipps.readTimeout());
      Duration backoff = vipps.retryBackoff().multipliedBy(1L << Math.min(vipps.maxAttempts(), 10));
      return perAttempt.multipliedBy(vipps.maxAttempts()).plus(backoff).plusSeconds(2);
    }
  }
}

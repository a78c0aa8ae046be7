package io.refundbroker.app;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.audit.AuditRoutes;
import io.refundbroker.audit.AuditService;
import io.refundbroker.audit.AuditTrailRepository;
import io.refundbroker.audit.CheckpointService;
import io.refundbroker.audit.CheckpointSigner;
import io.refundbroker.audit.CheckpointVerticle;
import io.refundbroker.audit.RefundLogRepository;
import io.refundbroker.audit.signing.LocalKeyFileSigner;
import io.refundbroker.auth.BearerAuth;
import io.refundbroker.auth.ClientRepository;
import io.refundbroker.auth.ClientRoutes;
import io.refundbroker.auth.ClientService;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.db.Database;
import io.refundbroker.http.Api;
import io.refundbroker.http.HttpVerticle;
import io.refundbroker.http.OperationsRoutes;
import io.refundbroker.http.ProblemException;
import io.refundbroker.http.Readiness;
import io.refundbroker.store.StoreRepository;
import io.refundbroker.store.StoreRoutes;
import io.refundbroker.store.StoreService;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.openapi.contract.OpenAPIContract;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the broker: builds every service from its dependencies (explicitly, no container), mounts
 * the features' routes on the contract and deploys one HTTP verticle per configured instance.
 * {@link Main} runs it in production; the integration tests run the very same wiring.
 */
public final class BrokerApp {
  private static final Logger LOG = LoggerFactory.getLogger(BrokerApp.class);

  /** Bounded worker pool for audit signing (key file) and verification hashing. */
  private static final String AUDIT_WORKER = "audit-worker";

  private final Vertx vertx;
  private final Database database;
  private final List<String> deployments;
  private final int httpPort;
  private final Optional<String> generatedAdminToken;
  private String checkpointDeployment;
  private WorkerExecutor auditWorker;

  private BrokerApp(
      Vertx vertx,
      Database database,
      List<String> deployments,
      int httpPort,
      Optional<String> generatedAdminToken) {
    this.vertx = vertx;
    this.database = database;
    this.deployments = deployments;
    this.httpPort = httpPort;
    this.generatedAdminToken = generatedAdminToken;
  }

  /**
   * Starts the broker on {@code vertx} against an already migrated {@code database}.
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
    AuditLog audit = new AuditLog(clock);
    ClientService clients = new ClientService(database.pool(), new ClientRepository(), audit);
    StoreService stores = new StoreService(database.pool(), new StoreRepository(), audit);

    Readiness readiness = new Readiness(vertx);
    readiness.register(
        "database",
        () ->
            database
                .checkReady()
                .recover(
                    failure ->
                        Future.failedFuture(
                            ProblemException.unavailable(
                                "DATABASE_UNAVAILABLE",
                                "database unreachable or its schema is not migrated"))));

    WorkerExecutor auditWorker = vertx.createSharedWorkerExecutor(AUDIT_WORKER, 2);
    return checkpointSigner(config, auditWorker)
        .compose(
            signer -> {
              AuditTrailRepository trail = new AuditTrailRepository();
              AuditRoutes auditRoutes =
                  new AuditRoutes(
                      new AuditService(
                          database.pool(),
                          audit,
                          trail,
                          new RefundLogRepository(),
                          signer,
                          auditWorker));
              CheckpointService checkpoints =
                  new CheckpointService(
                      database.pool(),
                      trail,
                      signer,
                      clock,
                      config.audit().checkpointEvery(),
                      config.audit().checkpointInterval());
              return startHttp(
                      vertx, config, database, registry, clients, stores, auditRoutes, readiness)
                  .compose(app -> app.startCheckpoints(checkpoints, config, auditWorker));
            });
  }

  /**
   * The signer of audit checkpoints for the configured credentials backend: the key file for {@code
   * local}. The Vault backend's Transit signer ({@code credential} package) plugs in here.
   */
  static Future<CheckpointSigner> checkpointSigner(BrokerConfig config, WorkerExecutor worker) {
    if (config.credentials().backend() != BrokerConfig.CredentialsBackend.LOCAL) {
      LOG.warn(
          "no Vault Transit checkpoint signer is wired in this build; audit checkpoints are"
              + " signed with AUDIT_SIGNING_KEY_FILE");
    }
    return LocalKeyFileSigner.open(config.audit().signingKeyFile(), worker).map(signer -> signer);
  }

  private Future<BrokerApp> startCheckpoints(
      CheckpointService checkpoints, BrokerConfig config, WorkerExecutor worker) {
    this.auditWorker = worker;
    return vertx
        .deployVerticle(
            new CheckpointVerticle(checkpoints, config.audit().checkpointInterval()),
            new DeploymentOptions())
        .map(
            id -> {
              checkpointDeployment = id;
              return this;
            });
  }

  private static Future<BrokerApp> startHttp(
      Vertx vertx,
      BrokerConfig config,
      Database database,
      PrometheusMeterRegistry registry,
      ClientService clients,
      StoreService stores,
      AuditRoutes auditRoutes,
      Readiness readiness) {
    return Api.loadContract(vertx)
        .compose(
            contract ->
                vertx.fileSystem().readFile(Api.CONTRACT).map(text -> new Wiring(contract, text)))
        .compose(
            wiring -> {
              BearerAuth auth = new BearerAuth(clients);
              Supplier<Router> routers =
                  () -> {
                    Api api =
                        new Api(
                            vertx,
                            wiring.contract(),
                            auth,
                            config.http().maxBodyBytes(),
                            config.http().maxImportBytes());
                    new StoreRoutes(stores).mount(api);
                    new ClientRoutes(clients).mount(api);
                    auditRoutes.mount(api);
                    new OperationsRoutes(readiness, registry, wiring.contractText()).mount(api);
                    return api.router();
                  };
              routers.get();
              return clients
                  .bootstrapAdmin(config.http().adminToken())
                  .compose(token -> deployHttp(vertx, config, routers, database, token));
            });
  }

  private record Wiring(OpenAPIContract contract, Buffer contractText) {}

  private static Future<BrokerApp> deployHttp(
      Vertx vertx,
      BrokerConfig config,
      Supplier<Router> routers,
      Database database,
      Optional<String> generatedAdminToken) {
    List<HttpVerticle> verticles = new ArrayList<>();
    List<Future<String>> deployed = new ArrayList<>();
    for (int i = 0; i < config.http().instances(); i++) {
      HttpVerticle verticle =
          new HttpVerticle(
              routers, config.http().host(), config.http().port(), config.http().shutdownGrace());
      verticles.add(verticle);
      deployed.add(vertx.deployVerticle(verticle, new DeploymentOptions()));
    }
    return Future.all(deployed)
        .map(
            all -> {
              List<String> ids = new ArrayList<>();
              deployed.forEach(f -> ids.add(f.result()));
              int port = verticles.get(0).actualPort();
              LOG.atInfo()
                  .setMessage("refund-broker listening")
                  .addKeyValue("port", port)
                  .addKeyValue("instances", verticles.size())
                  .log();
              return new BrokerApp(vertx, database, ids, port, generatedAdminToken);
            });
  }

  /** The port the HTTP API listens on. */
  public int httpPort() {
    return httpPort;
  }

  /** The admin token generated at this start, if one was (print it once, then forget it). */
  public Optional<String> generatedAdminToken() {
    return generatedAdminToken;
  }

  /**
   * Stops accepting requests, lets in-flight ones finish (within {@code BROKER_SHUTDOWN_GRACE}),
   * signs a last audit checkpoint and closes the database pool.
   */
  public Future<Void> stop() {
    List<Future<Void>> undeployed = new ArrayList<>();
    for (String id : deployments) {
      undeployed.add(vertx.undeploy(id));
    }
    return Future.join(undeployed)
        .transform(
            done ->
                checkpointDeployment == null
                    ? Future.succeededFuture()
                    : vertx.undeploy(checkpointDeployment))
        .transform(done -> auditWorker == null ? Future.succeededFuture() : auditWorker.close())
        .transform(done -> database.close());
  }
}

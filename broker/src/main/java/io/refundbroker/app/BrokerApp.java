package io.refundbroker.app;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.auth.BearerAuth;
import io.refundbroker.auth.ClientRepository;
import io.refundbroker.auth.ClientRoutes;
import io.refundbroker.auth.ClientService;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.credential.Credentials;
import io.refundbroker.db.Database;
import io.refundbroker.http.Api;
import io.refundbroker.http.HttpVerticle;
import io.refundbroker.http.OperationsRoutes;
import io.refundbroker.http.ProblemException;
import io.refundbroker.http.Readiness;
import io.refundbroker.store.StoreRepository;
import io.refundbroker.store.StoreRoutes;
import io.refundbroker.store.StoreService;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
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

  private final Vertx vertx;
  private final Database database;
  private final Credentials credentials;
  private final List<String> deployments;
  private final int httpPort;
  private final Optional<String> generatedAdminToken;

  private BrokerApp(
      Vertx vertx,
      Database database,
      Credentials credentials,
      List<String> deployments,
      int httpPort,
      Optional<String> generatedAdminToken) {
    this.vertx = vertx;
    this.database = database;
    this.credentials = credentials;
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
    // LEAD (Vipps merge): build the real VippsClient here and pass it instead of the placeholder.
    return start(vertx, config, database, registry, clock, new UnwiredVippsGateway());
  }

  /**
   * Starts the broker with {@code vipps} as its Vipps gateway (tests pass a stand-in).
   *
   * @return the running broker; fails when a dependency is unusable or the contract has an
   *     operation without a handler
   */
  public static Future<BrokerApp> start(
      Vertx vertx,
      BrokerConfig config,
      Database database,
      PrometheusMeterRegistry registry,
      Clock clock,
      VippsGateway vipps) {
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

    return Credentials.start(vertx, config, database, audit, stores, vipps, clock)
        .compose(
            credentials -> {
              readiness.register("credentials", credentials::checkReady);
              return Api.loadContract(vertx)
                  .compose(
                      contract ->
                          vertx
                              .fileSystem()
                              .readFile(Api.CONTRACT)
                              .map(text -> new Wiring(contract, text, credentials)))
                  .onFailure(failure -> credentials.close());
            })
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
                    wiring.credentials().routes().mount(api);
                    new OperationsRoutes(readiness, registry, wiring.contractText()).mount(api);
                    return api.router();
                  };
              routers.get();
              return clients
                  .bootstrapAdmin(config.http().adminToken())
                  .compose(
                      token ->
                          deployHttp(
                              vertx, config, routers, database, wiring.credentials(), token));
            });
  }

  private record Wiring(OpenAPIContract contract, Buffer contractText, Credentials credentials) {}

  private static Future<BrokerApp> deployHttp(
      Vertx vertx,
      BrokerConfig config,
      Supplier<Router> routers,
      Database database,
      Credentials credentials,
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
              return new BrokerApp(vertx, database, credentials, ids, port, generatedAdminToken);
            });
  }

  /** The port the HTTP API listens on. */
  public int httpPort() {
    return httpPort;
  }

  /** The stores' Vipps keys as the refund flow reads them (cached, fail closed). */
  public CredentialProvider credentials() {
    return credentials.provider();
  }

  /** The admin token generated at this start, if one was (print it once, then forget it). */
  public Optional<String> generatedAdminToken() {
    return generatedAdminToken;
  }

  /**
   * Stops accepting requests, lets in-flight ones finish (within {@code BROKER_SHUTDOWN_GRACE}),
   * closes the credential store and the database pool.
   */
  public Future<Void> stop() {
    List<Future<Void>> undeployed = new ArrayList<>();
    for (String id : deployments) {
      undeployed.add(vertx.undeploy(id));
    }
    return Future.join(undeployed)
        .transform(done -> credentials.close())
        .transform(done -> database.close());
  }
}

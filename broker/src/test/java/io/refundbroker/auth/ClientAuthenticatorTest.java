package io.refundbroker.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.refundbroker.caller.Principal;
import io.refundbroker.caller.Role;
import io.refundbroker.config.BrokerConfig.ClientAuthMode;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Who may pass: the role decision, and every refusal the authenticator makes before it needs the
 * database (wrong scheme, implausible token, a token where only certificates count, nothing
 * presented), each counted in {@code authorization_refusals_total}. Its client service has no
 * database: a request that got as far as a token look-up would fail with a 500 here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientAuthenticatorTest {
  private static final Principal ADMIN = new Principal("cl_admin", "admin", Role.ADMIN, null, null);
  private static final Principal CASHIER =
      new Principal("cl_till", "till", Role.STORE, "oslo", "acme");

  private final Vertx vertx = Vertx.vertx();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private HttpClient client;
  private int port;

  /** One route per mode, each open to STORE clients only. */
  @BeforeAll
  void start() throws Exception {
    ClientService noDatabase = new ClientService(null, null, null, null, null);
    Router router = Router.router(vertx);
    for (ClientAuthMode mode : ClientAuthMode.values()) {
      router
          .get("/" + mode.name().toLowerCase())
          .handler(
              new ClientAuthenticator(noDatabase, mode, registry).requireAnyOf(Set.of("STORE")))
          .handler(ctx -> ctx.response().end("passed"));
    }
    AuthorizationRefusals refusals = new AuthorizationRefusals(registry);
    router
        .get("/refusal/:status")
        .handler(
            ctx -> {
              int status = Integer.parseInt(ctx.pathParam("status"));
              refusals.record(
                  ctx, new ProblemException(status, "CODE_" + status, "t", "d"), CASHIER);
              refusals.record(ctx, new IllegalStateException("not a problem"), null);
              ctx.response().end("recorded");
            });
    router
        .route()
        .failureHandler(
            ctx -> {
              int status =
                  ctx.failure() instanceof ProblemException p ? p.status() : ctx.statusCode();
              JsonObject body =
                  ctx.failure() instanceof ProblemException p
                      ? new JsonObject().put("code", p.code()).put("detail", p.detail())
                      : new JsonObject().put("code", "INTERNAL");
              ctx.response().setStatusCode(status < 0 ? 500 : status).end(body.encode());
            });
    HttpServer server =
        await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    port = server.actualPort();
    client = vertx.createHttpClient();
  }

  @AfterAll
  void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void aClientPassesOnlyWithARoleTheOperationAllows() {
    assertThat(ClientAuthenticator.refusal(CASHIER, EnumSet.of(Role.STORE), "STORE")).isNull();
    assertThat(
            ClientAuthenticator.refusal(
                ADMIN, EnumSet.of(Role.ADMIN, Role.AUDITOR), "ADMIN or AUDITOR"))
        .isNull();
    ProblemException refused =
        ClientAuthenticator.refusal(CASHIER, EnumSet.of(Role.ADMIN), "ADMIN");
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.code()).isEqualTo("FORBIDDEN");
    assertThat(refused.detail())
        .isEqualTo("This operation needs a ADMIN client; this client has role STORE.");
    assertThat(ClientAuthenticator.refusal(ADMIN, EnumSet.noneOf(Role.class), "nobody"))
        .isNotNull();
  }

  @Test
  void anUnknownRoleNameIsAProgrammingErrorAtMountTime() {
    ClientAuthenticator authenticator =
        new ClientAuthenticator(
            new ClientService(null, null, null, null, null), ClientAuthMode.NONE);
    assertThatThrownBy(() -> authenticator.requireAnyOf(Set.of("CASHIER")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void withoutACredentialTheAnswerSaysWhatTheModeAccepts() throws Exception {
    JsonObject none = get("/none", null, 401);
    assertThat(none.getString("code")).isEqualTo("UNAUTHORIZED");
    assertThat(none.getString("detail"))
        .isEqualTo("This operation needs an API token: send 'Authorization: Bearer <token>'.");
    JsonObject request = get("/request", null, 401);
    assertThat(request.getString("detail")).contains("or a client certificate");
    JsonObject blank = get("/request", "   ", 401);
    assertThat(blank.getString("detail")).as("a blank header is no token").contains("certificate");
  }

  @Test
  void whereOnlyCertificatesCountATokenIsRefusedNotIgnored() throws Exception {
    JsonObject refused = get("/require", "Bearer " + "a".repeat(43), 401);
    assertThat(refused.getString("code")).isEqualTo(ClientAuthenticator.TOKEN_NOT_ACCEPTED);
    assertThat(get("/require", null, 401).getString("code")).isEqualTo("UNAUTHORIZED");
  }

  @Test
  void anotherSchemeOrAnImplausibleTokenIsRefusedBeforeTheDatabase() throws Exception {
    assertThat(get("/none", "Basic dXNlcjpwYXNz", 401).getString("detail"))
        .startsWith("Use the Bearer scheme");
    assertThat(get("/none", "Bearer", 401).getString("detail")).startsWith("Use the Bearer");
    String unknown = "The API token is unknown or has been revoked. Ask an admin for a new one.";
    assertThat(get("/none", "Bearer short", 401).getString("detail")).isEqualTo(unknown);
    assertThat(get("/request", "bearer " + "a".repeat(31), 401).getString("detail"))
        .as("the scheme is case-insensitive; 31 characters are too few")
        .isEqualTo(unknown);
    assertThat(get("/none", "BEARER " + "a".repeat(513), 401).getString("detail"))
        .isEqualTo(unknown);
  }

  @Test
  void everyRefusalIsCountedByStatusAndCodeAndNothingElseIs() throws Exception {
    double before = count("401", "UNAUTHORIZED");
    double notAccepted = count("401", ClientAuthenticator.TOKEN_NOT_ACCEPTED);
    get("/none", null, 401);
    get("/none", "Bearer short", 401);
    get("/require", "Bearer " + "b".repeat(40), 401);
    assertThat(count("401", "UNAUTHORIZED")).isEqualTo(before + 2);
    assertThat(count("401", ClientAuthenticator.TOKEN_NOT_ACCEPTED)).isEqualTo(notAccepted + 1);

    assertThat(getText("/refusal/403")).isEqualTo("recorded");
    assertThat(count("403", "CODE_403")).isEqualTo(1);
    for (int status : new int[] {400, 404, 429, 500}) {
      getText("/refusal/" + status);
      assertThat(registry.find("authorization.refusals").tag("code", "CODE_" + status).counter())
          .as("a %d is no refusal of a credential", status)
          .isNull();
    }
  }

  @Test
  void withoutARegistryRefusalsAreStillAnswered() throws Exception {
    ClientAuthenticator unmetered =
        new ClientAuthenticator(
            new ClientService(null, null, null, null, null), ClientAuthMode.NONE);
    Router router = Router.router(vertx);
    router.get("/x").handler(unmetered.requireAnyOf(Set.of("ADMIN")));
    router
        .route()
        .failureHandler(
            ctx -> ctx.response().setStatusCode(((ProblemException) ctx.failure()).status()).end());
    HttpServer server =
        await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    try {
      int status =
          await(
              client
                  .request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/x")
                  .compose(request -> request.send().map(r -> r.statusCode())));
      assertThat(status).isEqualTo(401);
    } finally {
      await(server.close());
    }
  }

  private double count(String status, String code) {
    Counter counter =
        registry.find("authorization.refusals").tag("status", status).tag("code", code).counter();
    return counter == null ? 0 : counter.count();
  }

  private JsonObject get(String path, String authorization, int expectedStatus) throws Exception {
    var response =
        await(
            client
                .request(HttpMethod.GET, port, "127.0.0.1", path)
                .compose(
                    request -> {
                      if (authorization != null) {
                        request.putHeader("Authorization", authorization);
                      }
                      // the body is asked for in the response's own callback: a handler set one
                      // hop later (on another thread) can miss an answer already read, and wait
                      return request
                          .send()
                          .compose(r -> r.body().map(body -> new Object[] {r.statusCode(), body}));
                    }));
    assertThat((int) response[0]).as(path + " " + response[1]).isEqualTo(expectedStatus);
    return new JsonObject(response[1].toString());
  }

  private String getText(String path) throws Exception {
    return await(
        client
            .request(HttpMethod.GET, port, "127.0.0.1", path)
            .compose(request -> request.send().compose(r -> r.body()))
            .map(Object::toString));
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}

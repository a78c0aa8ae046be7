package io.refundbroker.testing;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.refundbroker.app.BrokerApp;
import io.refundbroker.app.Launcher;
import io.refundbroker.auth.Tokens;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.db.Database;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * The real broker wiring ({@link BrokerApp}) in-process against a fresh {@link TestPostgres}
 * database, on a random port, with a known admin token. Configure it exactly like production:
 * through environment variables ({@link Builder#env}); it talks to Vipps with the real client at
 * {@code VIPPS_BASE_URL} (in tests a {@link TestSandbox}).
 */
public final class TestBroker implements AutoCloseable {
  private final Vertx vertx;
  private final BrokerApp app;
  private final TestDatabase database;
  private final WebClient http;
  private final String adminToken;
  private final PrometheusMeterRegistry registry;
  private final BrokerConfig config;
  private final String tlsTrust;

  private TestBroker(
      Vertx vertx,
      BrokerApp app,
      TestDatabase database,
      String adminToken,
      PrometheusMeterRegistry registry,
      BrokerConfig config,
      String tlsTrust) {
    this.vertx = vertx;
    this.app = app;
    this.database = database;
    this.adminToken = adminToken;
    this.registry = registry;
    this.config = config;
    this.tlsTrust = tlsTrust;
    WebClientOptions options =
        new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(app.httpPort());
    if (tlsTrust != null) {
      options
          .setSsl(true)
          .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(tlsTrust)));
    }
    this.http = WebClient.create(vertx, options, new PoolOptions().setHttp1MaxSize(128));
  }

  public static TestBroker start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Sets up a test broker. */
  public static final class Builder {
    private final Map<String, String> env = new HashMap<>();
    private TestDatabase database;
    private Clock clock = Clock.systemUTC();
    private String tlsTrust;

    /**
     * The broker speaks HTTPS (set {@code BROKER_TLS_CERT}/{@code BROKER_TLS_KEY} too); its own
     * requests trust the CA {@code caPem} that issued the server certificate.
     */
    public Builder tlsTrust(String caPem) {
      this.tlsTrust = caPem;
      return this;
    }

    public Builder env(String name, String value) {
      env.put(name, value);
      return this;
    }

    /** Reuses a database (e.g. to restart a broker on the same data). */
    public Builder database(TestDatabase existing) {
      this.database = existing;
      return this;
    }

    public Builder clock(Clock testClock) {
      this.clock = testClock;
      return this;
    }

    public TestBroker start() {
      TestDatabase db = database != null ? database : TestPostgres.newDatabase();
      String adminToken = env.getOrDefault("BROKER_ADMIN_TOKEN", Tokens.newToken());
      Map<String, String> effective = new HashMap<>();
      effective.put("BROKER_HTTP_PORT", "0");
      effective.put("BROKER_HTTP_HOST", "127.0.0.1");
      effective.put("BROKER_HTTP_INSTANCES", "1");
      effective.put("BROKER_SHUTDOWN_GRACE", "1s");
      effective.put("BROKER_DATA_DIR", tempDir().toString());
      effective.put("DATABASE_URL", TestDatabase.environmentValue(db.appUrl()));
      effective.put("DATABASE_POOL_SIZE", "8");
      effective.putAll(env);
      effective.put("BROKER_ADMIN_TOKEN", adminToken);
      BrokerConfig config = BrokerConfig.fromEnvironment(effective);
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      Vertx vertx = Launcher.newVertx(registry);
      try {
        Database database =
            Database.connect(vertx, db.appUrl(), config.database().poolSize(), db.schemaVersion());
        BrokerApp app = Await.result(BrokerApp.start(vertx, config, database, registry, clock));
        return new TestBroker(vertx, app, db, adminToken, registry, config, tlsTrust);
      } catch (RuntimeException | Error e) {
        Await.result(vertx.close());
        throw e;
      }
    }

    private static Path tempDir() {
      try {
        return Files.createTempDirectory("rb-test-data");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The running wiring (e.g. its credential provider). */
  public BrokerApp app() {
    return app;
  }

  public int port() {
    return app.httpPort();
  }

  public String baseUrl() {
    return (tlsTrust == null ? "http" : "https") + "://127.0.0.1:" + port();
  }

  public TestDatabase database() {
    return database;
  }

  public String adminToken() {
    return adminToken;
  }

  public BrokerConfig config() {
    return config;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Sends a request and waits for the whole response. {@code token} may be null. */
  public HttpResult send(HttpMethod method, String path, String token, Object body) {
    return Await.result(sendAsync(method, path, token, body, MultiMap.caseInsensitiveMultiMap()));
  }

  /** Like {@link #send} with extra headers. */
  public HttpResult send(
      HttpMethod method, String path, String token, Object body, Map<String, String> headers) {
    MultiMap extra = MultiMap.caseInsensitiveMultiMap();
    headers.forEach(extra::add);
    return Await.result(sendAsync(method, path, token, body, extra));
  }

  /**
   * Sends without waiting (for concurrency tests). {@code body} is a {@link JsonObject}, a {@link
   * String} (sent raw as JSON) or a {@link Buffer}.
   */
  public Future<HttpResult> sendAsync(
      HttpMethod method, String path, String token, Object body, MultiMap headers) {
    HttpRequest<Buffer> request = http.request(method, path);
    if (token != null) {
      request.putHeader("Authorization", "Bearer " + token);
    }
    request.putHeaders(headers);
    Future<io.vertx.ext.web.client.HttpResponse<Buffer>> response;
    if (body == null) {
      response = request.send();
    } else {
      if (!headers.contains("Content-Type")) {
        request.putHeader("Content-Type", "application/json");
      }
      Buffer buffer =
          body instanceof Buffer b
              ? b
              : body instanceof JsonObject j ? j.toBuffer() : Buffer.buffer(body.toString());
      response = request.sendBuffer(buffer);
    }
    return response.map(r -> new HttpResult(r.statusCode(), r.headers(), r.body()));
  }

  public HttpResult get(String path, String token) {
    return send(HttpMethod.GET, path, token, null);
  }

  public HttpResult post(String path, String token, Object body) {
    return send(HttpMethod.POST, path, token, body);
  }

  /** Creates a store as admin and returns its JSON (fails the test on error). */
  public JsonObject createStore(String storeId, String chainId, String msn) {
    HttpResult result =
        post(
            "/v1/admin/stores",
            adminToken,
            new JsonObject()
                .put("storeId", storeId)
                .put("name", "Store " + storeId)
                .put("msn", msn)
                .put("chainId", chainId));
    if (result.status() != 201) {
      throw new AssertionError("could not create store " + storeId + ": " + result);
    }
    return result.json();
  }

  /** Issues a client as admin and returns its token. */
  public String issueToken(String role, String storeId) {
    JsonObject body =
        new JsonObject().put("name", role.toLowerCase() + "-client").put("role", role);
    if (storeId != null) {
      body.put("storeId", storeId);
    }
    HttpResult result = post("/v1/admin/clients", adminToken, body);
    if (result.status() != 201) {
      throw new AssertionError("could not issue " + role + " client: " + result);
    }
    return result.json().getString("token");
  }

  @Override
  public void close() {
    try {
      Await.result(app.stop());
    } finally {
      Await.result(vertx.close());
    }
  }
}

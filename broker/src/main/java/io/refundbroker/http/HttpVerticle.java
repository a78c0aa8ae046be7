package io.refundbroker.http;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One HTTP server instance (the broker deploys one per core; they share the port), HTTPS when given
 * {@link ServerTls}. Stopping it stops accepting connections and lets in-flight requests finish
 * within the grace period. The test suite watches every exchange through an {@link ExchangeTap}.
 * Thread-safety: the server is set on the verticle's event loop and read by the TLS reloader and
 * {@link #actualPort} from other threads, hence {@code volatile}.
 */
public final class HttpVerticle extends VerticleBase {
  /**
   * A connection that carries no byte for this long is closed ({@link LongAnswer} keeps one open).
   */
  public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(120);

  private final Supplier<Router> routerFactory;
  private final String host;
  private final int port;
  private final Duration shutdownGrace;
  private final Optional<ServerTls> tls;
  private volatile HttpServer server;

  public HttpVerticle(
      Supplier<Router> routerFactory,
      String host,
      int port,
      Duration shutdownGrace,
      Optional<ServerTls> tls) {
    this.routerFactory = routerFactory;
    this.host = host;
    this.port = port;
    this.shutdownGrace = shutdownGrace;
    this.tls = tls;
  }

  @Override
  public Future<?> start() {
    Router router = routerFactory.get();
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(host)
            .setPort(port)
            .setCompressionSupported(false)
            .setIdleTimeout((int) IDLE_TIMEOUT.toSeconds())
            .setMaxHeaderSize(16 * 1024);
    tls.ifPresent(settings -> settings.applyTo(options));
    Optional<ExchangeTap> tap = ExchangeTap.fromSystemProperty();
    Handler<HttpServerRequest> requests = router;
    Handler<HttpServerRequest> invalid = new InvalidRequests();
    if (tap.isPresent()) {
      requests = tap.get().around(requests);
      invalid = tap.get().around(invalid);
    }
    return vertx
        .createHttpServer(options)
        .requestHandler(requests)
        .invalidRequestHandler(invalid)
        .listen()
        .onSuccess(listening -> server = listening);
  }

  @Override
  public Future<?> stop() {
    return server == null
        ? Future.succeededFuture()
        : server.shutdown(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Serves new connections with {@code replacement}'s certificate; open connections keep theirs and
   * the listener is never closed.
   *
   * @return fails when the server is not listening or Vert.x refuses the options
   */
  public Future<Boolean> updateTls(ServerTls replacement) {
    HttpServer listening = server;
    if (listening == null) {
      return Future.failedFuture(new IllegalStateException("the HTTP server is not listening"));
    }
    return listening.updateSSLOptions(replacement.sslOptions(), true);
  }

  /** The bound port (useful when configured with port 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }
}

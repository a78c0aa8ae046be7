package io.refundbroker.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One HTTP server instance (the broker deploys one per core; they share the port). Stopping it
 * stops accepting connections and lets in-flight requests finish within the grace period.
 */
public final class HttpVerticle extends VerticleBase {
  private final Supplier<Router> routerFactory;
  private final String host;
  private final int port;
  private final Duration shutdownGrace;
  private HttpServer server;

  public HttpVerticle(
      Supplier<Router> routerFactory, String host, int port, Duration shutdownGrace) {
    this.routerFactory = routerFactory;
    this.host = host;
    this.port = port;
    this.shutdownGrace = shutdownGrace;
  }

  @Override
  public Future<?> start() {
    Router router = routerFactory.get();
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(host)
            .setPort(port)
            .setCompressionSupported(false)
            .setIdleTimeout(120)
            .setMaxHeaderSize(16 * 1024);
    return vertx
        .createHttpServer(options)
        .requestHandler(router)
        .invalidRequestHandler(new InvalidRequests())
        .listen()
        .onSuccess(listening -> server = listening);
  }

  @Override
  public Future<?> stop() {
    return server == null
        ? Future.succeededFuture()
        : server.shutdown(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The bound port (useful when configured with port 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }
}

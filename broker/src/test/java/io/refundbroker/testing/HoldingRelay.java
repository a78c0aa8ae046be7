package io.refundbroker.testing;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A loopback HTTP relay in front of a real server (the Vipps sandbox): every request is forwarded
 * unchanged and its answer sent back unchanged (a dropped connection upstream drops the caller's
 * connection too). It can hold the requests on one path until N of them have arrived and then let
 * them through together ({@link #holdUntil}), which makes concurrent calls overlap
 * deterministically instead of by a guessed delay. It answers nothing itself.
 */
public final class HoldingRelay implements AutoCloseable {
  private static final Set<String> NOT_RELAYED =
      Set.of("host", "connection", "keep-alive", "transfer-encoding", "content-length");

  private final HttpClient client;
  private final int targetPort;
  private final List<Promise<Void>> held = new ArrayList<>();
  private HttpServer server;
  private String holdPath;
  private int holdUntil;

  private HoldingRelay(Vertx vertx, int targetPort) {
    this.client = vertx.createHttpClient();
    this.targetPort = targetPort;
  }

  /** Starts a relay on a free loopback port forwarding to {@code 127.0.0.1:targetPort}. */
  public static HoldingRelay start(Vertx vertx, int targetPort) {
    HoldingRelay relay = new HoldingRelay(vertx, targetPort);
    relay.server =
        Await.result(
            vertx
                .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(relay::relay)
                .listen());
    return relay;
  }

  /** {@code http://127.0.0.1:<port>}. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /**
   * The next requests to {@code path} are held until {@code n} of them are waiting; then all are
   * forwarded at once and holding stops.
   */
  public synchronized void holdUntil(String path, int n) {
    this.holdPath = path;
    this.holdUntil = n;
  }

  /** Requests waiting at the gate now. */
  public synchronized int held() {
    return held.size();
  }

  private Future<Void> gate(String path) {
    Promise<Void> promise = Promise.promise();
    List<Promise<Void>> release = List.of();
    synchronized (this) {
      if (holdUntil == 0 || !path.equals(holdPath)) {
        return Future.succeededFuture();
      }
      held.add(promise);
      if (held.size() >= holdUntil) {
        release = List.copyOf(held);
        held.clear();
        holdUntil = 0;
        holdPath = null;
      }
    }
    release.forEach(Promise::complete);
    return promise.future();
  }

  private void relay(HttpServerRequest in) {
    in.body()
        .compose(body -> gate(in.path()).map(open -> body))
        .compose(body -> forward(in, body))
        .compose(response -> response.body().map(body -> answer(in, response, body)))
        .onFailure(failure -> in.connection().close());
  }

  private Future<HttpClientResponse> forward(HttpServerRequest in, Buffer body) {
    RequestOptions options =
        new RequestOptions()
            .setMethod(in.method())
            .setHost("127.0.0.1")
            .setPort(targetPort)
            .setURI(in.uri());
    return client
        .request(options)
        .compose(
            out -> {
              copy(in.headers(), out.headers());
              return in.headers().contains("Content-Length") || body.length() > 0
                  ? out.send(body)
                  : out.send();
            });
  }

  private static Void answer(HttpServerRequest in, HttpClientResponse response, Buffer body) {
    copy(response.headers(), in.response().headers());
    in.response().setStatusCode(response.statusCode()).end(body);
    return null;
  }

  private static void copy(MultiMap from, MultiMap to) {
    from.forEach(
        header -> {
          if (!NOT_RELAYED.contains(header.getKey().toLowerCase(Locale.ROOT))) {
            to.add(header.getKey(), header.getValue());
          }
        });
  }

  @Override
  public void close() {
    List<Promise<Void>> waiting;
    synchronized (this) {
      waiting = List.copyOf(held);
      held.clear();
    }
    waiting.forEach(p -> p.tryFail("relay closed"));
    Await.result(server.close());
    Await.result(client.close());
  }
}

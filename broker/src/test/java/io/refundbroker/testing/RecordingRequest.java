package io.refundbroker.testing;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.internal.http.HttpServerRequestWrapper;
import io.vertx.core.net.SocketAddress;
import java.lang.reflect.Proxy;
import java.util.function.Consumer;

/**
 * A request whose {@link #response()} records what is sent ({@link RecordingResponse}). Everything
 * else is the server's request. Used on the request's event loop only.
 */
final class RecordingRequest extends HttpServerRequestWrapper {
  private final Consumer<Exchange> sink;
  private final String origin;
  private final String method;
  private final String path;
  private final String query;
  private HttpServerResponse response;

  RecordingRequest(HttpServerRequestInternal delegate, Consumer<Exchange> sink, String origin) {
    super(delegate);
    this.sink = sink;
    SocketAddress local = delegate.localAddress();
    this.origin = local == null ? origin : origin + " on port " + local.port();
    // as the request arrived (the router may reroute it later)
    this.method = delegate.method() == null ? null : delegate.method().name();
    this.path = delegate.path();
    this.query = delegate.query();
  }

  @Override
  public HttpServerResponse response() {
    if (response == null) {
      HttpServerResponse real = delegate.response();
      RecordingResponse recorder = new RecordingResponse(real, sent -> sink.accept(exchange(sent)));
      response =
          (HttpServerResponse)
              Proxy.newProxyInstance(
                  HttpServerResponse.class.getClassLoader(),
                  new Class<?>[] {HttpServerResponse.class},
                  recorder);
    }
    return response;
  }

  private Exchange exchange(RecordingResponse.Sent sent) {
    return new Exchange(method, path, query, sent.status(), sent.headers(), sent.body(), origin);
  }
}

package io.refundbroker.testing;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The invocation handler of a recording {@link HttpServerResponse} proxy: passes every call on to
 * the server's response, keeps a copy of every body chunk written, and when the response has been
 * ended reports status, headers and body once. Fluent calls return the proxy, so chained calls stay
 * recorded. Used on the response's event loop only.
 */
final class RecordingResponse implements InvocationHandler {
  private static final Set<String> WRITES = Set.of("write", "end", "send");
  private static final Set<String> ENDS = Set.of("end", "send", "sendFile");

  /** What was sent; {@code body} is null for a file streamed from disk. */
  record Sent(int status, List<Map.Entry<String, String>> headers, byte[] body) {}

  private final HttpServerResponse delegate;
  private final Consumer<Sent> report;
  private final Buffer body = Buffer.buffer();
  private boolean file;
  private boolean reported;

  RecordingResponse(HttpServerResponse delegate, Consumer<Sent> report) {
    this.delegate = delegate;
    this.report = report;
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    String name = method.getName();
    if (name.equals("send")
        && args != null
        && args.length == 1
        && args[0] instanceof ReadStream<?>) {
      // the default method pipes the stream into "this": the proxy, so the chunks are recorded
      return InvocationHandler.invokeDefault(proxy, method, args);
    }
    if (WRITES.contains(name) && args != null && args.length >= 1) {
      if (args[0] instanceof Buffer chunk) {
        body.appendBuffer(chunk);
      } else if (args[0] instanceof String text) {
        body.appendString(text, args.length > 1 ? (String) args[1] : "UTF-8");
      }
    }
    if (name.equals("sendFile")) {
      file = true;
    }
    Object result;
    try {
      result = method.invoke(delegate, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
    if (ENDS.contains(name) && result instanceof Future<?> done) {
      done.onComplete(outcome -> report());
    }
    return result == delegate ? proxy : result;
  }

  private void report() {
    if (reported) {
      return;
    }
    reported = true;
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    delegate.headers().forEach(h -> headers.add(Map.entry(h.getKey(), h.getValue())));
    report.accept(
        new Sent(delegate.getStatusCode(), List.copyOf(headers), file ? null : body.getBytes()));
  }
}

package io.refundbroker.testing;

import io.refundbroker.http.ExchangeTap;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The test suite's {@link ExchangeTap}: records every response a broker sends, as sent (status,
 * headers, body), and hands it to a sink — in the test JVM to {@link ContractWitness}, which checks
 * it against {@code openapi.yaml}; in a child broker's JVM (system property {@value #LOG_PROPERTY}
 * set by {@link ChildBroker}) to a file the test JVM checks when the child stops.
 */
public final class ResponseRecorder implements ExchangeTap {
  /** In a child broker: the file its exchanges are appended to (one JSON object a line). */
  public static final String LOG_PROPERTY = "refundbroker.exchangeLog";

  private final Consumer<Exchange> sink;
  private final String origin;

  /** Made by the broker (named by {@link ExchangeTap#PROPERTY}). */
  public ResponseRecorder() {
    String log = System.getProperty(LOG_PROPERTY);
    if (log == null || log.isBlank()) {
      this.sink = ContractWitness.global()::record;
      this.origin = "broker";
    } else {
      this.sink = ExchangeLog.appender(Path.of(log));
      this.origin = "child broker " + ProcessHandle.current().pid();
    }
  }

  /** Records into {@code sink} (for tests of the recorder). */
  public ResponseRecorder(Consumer<Exchange> sink, String origin) {
    this.sink = sink;
    this.origin = origin;
  }

  @Override
  public Handler<HttpServerRequest> around(Handler<HttpServerRequest> next) {
    return request ->
        next.handle(new RecordingRequest((HttpServerRequestInternal) request, sink, origin));
  }
}

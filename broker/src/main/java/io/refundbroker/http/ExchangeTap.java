package io.refundbroker.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import java.util.Optional;

/**
 * A hook around the HTTP server's request handling for the test suite, which sees through it every
 * request and the response the broker sends to it (and checks each against {@code openapi.yaml}).
 * The system property {@value #PROPERTY} names the implementation (a class with a public
 * no-argument constructor on the classpath). Production sets none: the server then hands requests
 * straight to the router, and no class of the broker implements this interface.
 */
public interface ExchangeTap {
  String PROPERTY = "refundbroker.exchangeTap";

  /** A handler that passes each request on to {@code next}, watching it and its response. */
  Handler<HttpServerRequest> around(Handler<HttpServerRequest> next);

  /**
   * The tap named by {@value #PROPERTY}, if the property is set.
   *
   * @throws IllegalStateException when the property names no class that implements this interface
   */
  static Optional<ExchangeTap> fromSystemProperty() {
    String name = System.getProperty(PROPERTY);
    if (name == null || name.isBlank()) {
      return Optional.empty();
    }
    try {
      Object tap = Class.forName(name).getDeclaredConstructor().newInstance();
      return Optional.of((ExchangeTap) tap);
    } catch (ReflectiveOperationException | ClassCastException e) {
      throw new IllegalStateException(
          "the system property " + PROPERTY + " names no usable ExchangeTap: " + name, e);
    }
  }
}

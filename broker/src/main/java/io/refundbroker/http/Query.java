package io.refundbroker.http;

import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.ValidatedRequest;
import java.util.Optional;

/**
 * Optional query parameters of a validated request, in one place: a parameter that was not sent (or
 * sent empty where the contract allows it) is absent, never a {@code RequestParameter} that throws
 * on use.
 */
public final class Query {
  private Query() {}

  /** The parameter {@code name}, when the request carries it. */
  public static Optional<RequestParameter> optional(ValidatedRequest request, String name) {
    RequestParameter parameter = request.getQuery().get(name);
    return parameter == null || parameter.isNull() ? Optional.empty() : Optional.of(parameter);
  }

  /** The string value of {@code name}, or null when it was not sent. */
  public static String string(ValidatedRequest request, String name) {
    return optional(request, name).map(RequestParameter::getString).orElse(null);
  }

  /** The integer value of {@code name}, or null when it was not sent. */
  public static Long longValue(ValidatedRequest request, String name) {
    return optional(request, name).map(RequestParameter::getLong).orElse(null);
  }

  /** The integer value of {@code name}, or {@code otherwise} when it was not sent. */
  public static long longValue(ValidatedRequest request, String name, long otherwise) {
    return optional(request, name).map(RequestParameter::getLong).orElse(otherwise);
  }

  /** The boolean value of {@code name}, or {@code otherwise} when it was not sent. */
  public static boolean bool(ValidatedRequest request, String name, boolean otherwise) {
    return optional(request, name).map(RequestParameter::getBoolean).orElse(otherwise);
  }
}

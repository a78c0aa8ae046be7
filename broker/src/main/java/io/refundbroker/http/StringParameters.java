package io.refundbroker.http;

import io.vertx.core.json.Json;
import io.vertx.json.schema.common.dsl.SchemaType;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.ValidatableRequest;
import io.vertx.openapi.validation.impl.RequestParameterImpl;
import io.vertx.openapi.validation.impl.ValidatableRequestImpl;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps string parameters as they were sent. vertx-openapi passes a parameter value through only
 * when it is a plain word ({@code \w+}); any other value it reads as JSON first, so a value the
 * contract allows as a string but that is also JSON (an {@code Idempotency-Key} of {@code -12} or
 * {@code 1.5}, a {@code storeId} of {@code 1.5}) was refused as "the wrong type", one starting with
 * a quote or holding a backslash could not be decoded, and {@code "k"} arrived as {@code k}. Each
 * string-typed path, query and header parameter is therefore handed to the validator as a JSON
 * string literal, which it decodes back to exactly the text that was sent.
 */
final class StringParameters {
  private StringParameters() {}

  static ValidatableRequest quoted(ValidatableRequest request, Operation operation) {
    Map<String, RequestParameter> path = new HashMap<>(request.getPathParameters());
    Map<String, RequestParameter> query = new HashMap<>(request.getQuery());
    Map<String, RequestParameter> headers = new HashMap<>(request.getHeaders());
    for (Parameter parameter : operation.getParameters()) {
      if (!SchemaType.STRING.equals(parameter.getSchemaType())) {
        continue;
      }
      Map<String, RequestParameter> values =
          parameter.getIn() == Location.PATH
              ? path
              : parameter.getIn() == Location.QUERY
                  ? query
                  : parameter.getIn() == Location.HEADER ? headers : null;
      if (values == null) {
        continue;
      }
      RequestParameter value = values.get(parameter.getName());
      if (value != null && value.get() instanceof String text) {
        values.put(parameter.getName(), new RequestParameterImpl(Json.encode(text)));
      }
    }
    return new ValidatableRequestImpl(
        request.getCookies(), headers, path, query, request.getBody(), request.getContentType());
  }
}

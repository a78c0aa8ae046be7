package io.refundbroker.http;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.Json;
import io.vertx.json.schema.common.dsl.SchemaType;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.ValidatableRequest;
import io.vertx.openapi.validation.impl.RequestParameterImpl;
import io.vertx.openapi.validation.impl.ValidatableRequestImpl;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
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

  /**
   * vertx-openapi also %-decodes every header parameter as if it were part of a URL: an {@code
   * Idempotency-Key} holding {@code +} or {@code %41} arrived changed, and one holding a lone
   * {@code %} was refused with its value echoed in the problem. Header values are not URL-encoded;
   * so, before extraction, each header parameter of the operation is replaced by its %-encoding,
   * which that decoding turns back into exactly the value that was sent. (Nothing reads these
   * headers from the raw request afterwards; handlers read the validated request.)
   */
  static void shieldHeaders(HttpServerRequest request, Operation operation) {
    for (Parameter parameter : operation.getParameters()) {
      if (parameter.getIn() != Location.HEADER) {
        continue;
      }
      String raw = request.getHeader(parameter.getName());
      if (raw != null) {
        request.headers().set(parameter.getName(), URLEncoder.encode(raw, StandardCharsets.UTF_8));
      }
    }
  }

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

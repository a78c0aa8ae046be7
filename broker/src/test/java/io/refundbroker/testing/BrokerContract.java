package io.refundbroker.testing;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.report.LevelResolver;
import com.atlassian.oai.validator.report.ValidationReport;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks one exchange with the broker against its own contract ({@code openapi.yaml}): the request
 * with swagger-request-validator, the response with {@link ResponseContract}. Security requirements
 * are not checked here (a request may be identified by its TLS client certificate, which the
 * validator cannot see); authentication has tests of its own.
 */
public final class BrokerContract {
  private static final OpenApiInteractionValidator VALIDATOR = validator();

  private BrokerContract() {}

  /**
   * The contract violations of one exchange, each as {@code key: message}: the request by
   * swagger-request-validator, the response by {@link ResponseContract} (which checks every
   * response of the suite anyway, see {@link ContractCheck}).
   */
  public static List<String> violations(
      String method, String path, JsonObject requestBody, HttpResult response) {
    List<String> out = new ArrayList<>(requestViolations(method, path, requestBody));
    int question = path.indexOf('?');
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    response.headers().forEach(h -> headers.add(Map.entry(h.getKey(), h.getValue())));
    Exchange exchange =
        new Exchange(
            method.toUpperCase(Locale.ROOT),
            question < 0 ? path : path.substring(0, question),
            question < 0 ? null : path.substring(question + 1),
            response.status(),
            headers,
            response.body() == null ? new byte[0] : response.body().getBytes(),
            "test client");
    for (String violation : ResponseContract.broker().violations(exchange)) {
      out.add("response: " + violation);
    }
    return out;
  }

  /** The request alone (e.g. one the broker refused before answering). */
  public static List<String> requestViolations(String method, String path, JsonObject body) {
    SimpleRequest.Builder request = request(method, path);
    if (body != null) {
      request.withContentType("application/json").withBody(body.encode());
    }
    Request built = request.build();
    List<String> out = new ArrayList<>();
    for (ValidationReport.Message message : VALIDATOR.validateRequest(built).getMessages()) {
      if (message.getLevel() == ValidationReport.Level.ERROR) {
        out.add(message.getKey() + ": " + message.getMessage());
      }
    }
    return out;
  }

  /** {@code path} may carry a query ({@code ?a=1&b=2}, already URL-safe). */
  private static SimpleRequest.Builder request(String method, String path) {
    int question = path.indexOf('?');
    SimpleRequest.Builder request =
        new SimpleRequest.Builder(
            method.toUpperCase(Locale.ROOT), question < 0 ? path : path.substring(0, question));
    if (question >= 0) {
      for (String pair : path.substring(question + 1).split("&")) {
        int eq = pair.indexOf('=');
        request.withQueryParam(
            eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
      }
    }
    return request;
  }

  private static OpenApiInteractionValidator validator() {
    String text;
    try (InputStream in = BrokerContract.class.getResourceAsStream("/openapi.yaml")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    options.setResolveFully(true);
    SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(text, null, options);
    if (parsed.getOpenAPI() == null) {
      throw new IllegalStateException("cannot parse openapi.yaml: " + parsed.getMessages());
    }
    return OpenApiInteractionValidator.createFor(parsed.getOpenAPI())
        .withLevelResolver(
            LevelResolver.create()
                .withLevel("validation.request.security", ValidationReport.Level.IGNORE)
                // With a 3.1 document the validator loses the type of $ref'd parameter schemas and
                // tries to parse plain strings as JSON (vertx-openapi checks those).
                .withLevel(
                    "validation.request.parameter.schema.invalidJson",
                    ValidationReport.Level.IGNORE)
                .build())
        .build();
  }
}

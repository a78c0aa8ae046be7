package io.refundbroker.http;

import io.refundbroker.error.ProblemException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.json.DecodeException;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one door every error leaves through. It turns whatever failed the routing context into an
 * {@code application/problem+json} response: {@link ProblemException}s as they are, contract
 * validation errors as 400/415 with the offending member named, unknown failures as a 500 without
 * detail. 5xx are logged with their stack, 4xx without. Nothing from SQL, Vault, Vipps or a stack
 * trace ever reaches the caller. A client that hung up before its answer (e.g. in the middle of
 * sending a body) is not a failure of the broker: nothing is written and it is logged at DEBUG,
 * without a stack; the access log records it as status 499.
 */
public final class FailureHandler implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(FailureHandler.class);
  private static final Pattern PARAMETER =
      Pattern.compile("of (query|path|header|cookie) parameter ([A-Za-z0-9._-]{1,64}) ");

  private final UnaryOperator<Throwable> translate;

  /** A handler that takes failures as they are. */
  public FailureHandler() {
    this(UnaryOperator.identity());
  }

  /**
   * @param translate turns a failure of a technical layer the handler cannot know (e.g. the
   *     database's) into a {@link ProblemException}, or returns it unchanged
   */
  public FailureHandler(UnaryOperator<Throwable> translate) {
    this.translate = translate;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (clientGone(ctx)) {
      LOG.atDebug()
          .setMessage("client closed the connection before the answer")
          .addKeyValue("requestId", RequestIds.of(ctx))
          .log();
      return;
    }
    Throwable failure = ctx.failure();
    ProblemException problem = toProblem(ctx, failure == null ? null : translate.apply(failure));
    if (problem.status() >= 500) {
      LOG.atError()
          .setMessage("request failed")
          .addKeyValue("requestId", RequestIds.of(ctx))
          .addKeyValue("method", ctx.request().method().name())
          .addKeyValue("path", ctx.request().path())
          .addKeyValue("code", problem.code())
          .setCause(failure)
          .log();
    } else if (LOG.isDebugEnabled()) {
      LOG.atDebug()
          .setMessage("request refused")
          .addKeyValue("requestId", RequestIds.of(ctx))
          .addKeyValue("status", problem.status())
          .addKeyValue("code", problem.code())
          .log();
    }
    Problems.write(ctx, problem);
  }

  /** The connection closed under the request: there is nobody to answer. */
  private static boolean clientGone(RoutingContext ctx) {
    return ctx.failure() instanceof HttpClosedException
        || (ctx.failure() == null && ctx.response().closed());
  }

  static ProblemException toProblem(RoutingContext ctx, Throwable failure) {
    if (failure instanceof ProblemException p) {
      return p;
    }
    if (failure instanceof SchemaValidationException e) {
      return schemaProblem(e);
    }
    if (failure instanceof ValidatorException e) {
      return validatorProblem(e);
    }
    if (failure instanceof DecodeException) {
      return ProblemException.badRequest("MALFORMED_JSON", "The request body is not valid JSON.");
    }
    if (failure instanceof HttpException e) {
      return forStatus(e.getStatusCode());
    }
    if (failure == null) {
      return forStatus(ctx.statusCode() < 400 ? 500 : ctx.statusCode());
    }
    return internal();
  }

  /** The problem for a bare status code (router 404/405, body limit 413, …). */
  static ProblemException forStatus(int status) {
    return switch (status) {
      case 400 -> ProblemException.badRequest("BAD_REQUEST", "The request could not be read.");
      case 401 ->
          ProblemException.unauthorized("Send an API token as 'Authorization: Bearer <token>'.");
      case 403 -> ProblemException.forbidden("This token may not use this operation.");
      case 404 ->
          ProblemException.notFound(
              "NO_SUCH_ENDPOINT", "No endpoint here; see GET /openapi.yaml for the API.");
      case 405 ->
          new ProblemException(
              405,
              "METHOD_NOT_ALLOWED",
              "Method not allowed",
              "This endpoint does not accept that HTTP method; see GET /openapi.yaml.");
      case 413 ->
          new ProblemException(
              413,
              "PAYLOAD_TOO_LARGE",
              "Payload too large",
              "The request body is larger than this endpoint accepts.");
      case 414 -> InvalidRequests.uriTooLong();
      case 415 ->
          new ProblemException(
              415,
              "UNSUPPORTED_MEDIA_TYPE",
              "Unsupported media type",
              "Send the body as application/json.");
      case 431 -> InvalidRequests.headersTooLarge();
      default ->
          status >= 500 || status < 400
              ? internal()
              : new ProblemException(
                  status, "HTTP_" + status, "Request refused", "The request was refused.");
    };
  }

  private static ProblemException internal() {
    return new ProblemException(
        500,
        "INTERNAL_ERROR",
        "Internal error",
        "The broker hit an unexpected error. Nothing was changed unless a later read shows"
            + " otherwise; quote the requestId when reporting this.");
  }

  private static ProblemException validatorProblem(ValidatorException e) {
    String parameter = parameterOf(e.getMessage());
    if (parameter != null && e.getMessage().contains("can't be decoded")) {
      return ProblemException.badRequest(
          "VALIDATION_FAILED",
          "The request " + parameter + " cannot be read as the type the contract declares.");
    }
    if (e.getMessage() != null && e.getMessage().contains("can't be decoded")) {
      return ProblemException.badRequest(
          "MALFORMED_JSON", "The request body is not valid JSON (or not in the declared format).");
    }
    return switch (e.type()) {
      case UNSUPPORTED_VALUE_FORMAT -> forStatus(415);
      case MISSING_REQUIRED_PARAMETER ->
          ProblemException.badRequest("MISSING_PARAMETER", safeMessage(e));
      case INVALID_VALUE_FORMAT -> ProblemException.badRequest("MALFORMED_REQUEST", safeMessage(e));
      default -> ProblemException.badRequest("VALIDATION_FAILED", safeMessage(e));
    };
  }

  /**
   * Builds "where: what" lines from the schema output. Only locations and keywords are used, never
   * the offending values, so a secret sent in the wrong member is not echoed back.
   */
  private static ProblemException schemaProblem(SchemaValidationException e) {
    List<OutputUnit> leaves = new ArrayList<>();
    collect(e.getOutputUnit(), leaves);
    Set<String> reasons = new LinkedHashSet<>();
    for (OutputUnit leaf : leaves) {
      if (isSpuriousAdditional(leaf, leaves)) {
        continue;
      }
      String reason = describe(leaf, "body");
      if (reason != null) {
        reasons.add(reason);
      }
    }
    String parameter = parameterOf(e.getMessage());
    String where =
        parameter != null
            ? parameter
            : e.getMessage() != null && e.getMessage().contains("parameter") ? "parameter" : "body";
    if (parameter != null) {
      // the parameter's value is the instance: name the parameter, not "body"
      List<String> named = new ArrayList<>();
      for (String reason : reasons) {
        named.add(reason.startsWith("body") ? parameter + reason.substring(4) : reason);
      }
      reasons = new LinkedHashSet<>(named);
    }
    String detail =
        reasons.isEmpty()
            ? "The request " + where + " does not match the API contract (GET /openapi.yaml)."
            : "The request "
                + where
                + " does not match the API contract: "
                + String.join("; ", limit(new ArrayList<>(reasons), 5))
                + ".";
    return ProblemException.badRequest("VALIDATION_FAILED", detail);
  }

  /**
   * The parameter a validator message is about ({@code query parameter 'limit'}), or null. The name
   * comes from the contract (vertx-openapi's "The value of query parameter limit is invalid" or "…
   * can't be decoded"), never from the request.
   */
  static String parameterOf(String message) {
    if (message == null) {
      return null;
    }
    Matcher matcher = PARAMETER.matcher(message);
    return matcher.find() ? matcher.group(1) + " parameter '" + matcher.group(2) + "'" : null;
  }

  private static void collect(OutputUnit unit, List<OutputUnit> leaves) {
    if (unit == null) {
      return;
    }
    List<OutputUnit> errors = unit.getErrors();
    if (errors == null || errors.isEmpty()) {
      leaves.add(unit);
      return;
    }
    for (OutputUnit child : errors) {
      collect(child, leaves);
    }
  }

  /**
   * vertx-json-schema also reports {@code additionalProperties} for a declared member that failed
   * its own schema; that member is not "extra", so the report is dropped.
   */
  private static boolean isSpuriousAdditional(OutputUnit leaf, List<OutputUnit> all) {
    if (!keyword(leaf).equals("additionalProperties")) {
      return false;
    }
    for (OutputUnit other : all) {
      if (other != leaf
          && !keyword(other).equals("additionalProperties")
          && java.util.Objects.equals(other.getInstanceLocation(), leaf.getInstanceLocation())) {
        return true;
      }
    }
    return false;
  }

  private static String keyword(OutputUnit unit) {
    String location = unit.getKeywordLocation();
    return location == null ? "" : location.substring(location.lastIndexOf('/') + 1);
  }

  private static String describe(OutputUnit unit, String root) {
    if (unit.getKeywordLocation() == null) {
      return null;
    }
    String keyword = keyword(unit);
    String location = pointer(unit.getInstanceLocation(), root);
    String error = unit.getError() == null ? "" : unit.getError();
    return switch (keyword) {
      case "required" -> location + ": " + quotedName(error, "a required member") + " is missing";
      case "additionalProperties", "unevaluatedProperties" ->
          location + ": " + quotedName(error, "a member") + " is not allowed here";
      case "type" -> location + " has the wrong type";
      case "pattern" -> location + " has the wrong format";
      case "minLength" -> location + " is too short";
      case "maxLength" -> location + " is too long";
      case "minimum", "exclusiveMinimum" -> location + " is too small";
      case "maximum", "exclusiveMaximum" -> location + " is too large";
      case "enum", "const" -> location + " is not one of the allowed values";
      case "minProperties" -> location + " must not be empty";
      case "format" -> location + " has the wrong format";
      case "oneOf", "anyOf" -> location + " does not match any allowed shape";
      case "$ref", "properties", "items", "allOf", "then", "else" -> null;
      default -> location + " is invalid (" + keyword + ")";
    };
  }

  private static String pointer(String instanceLocation, String root) {
    if (instanceLocation == null || instanceLocation.isEmpty() || instanceLocation.equals("#")) {
      return root;
    }
    String p = instanceLocation.startsWith("#") ? instanceLocation.substring(1) : instanceLocation;
    return p.isEmpty() ? root : p;
  }

  /** Extracts the quoted member name from a json-schema error message (it names keys only). */
  private static String quotedName(String error, String fallback) {
    int start = error.indexOf('"');
    int end = start < 0 ? -1 : error.indexOf('"', start + 1);
    if (start >= 0 && end > start && end - start <= 66) {
      return "'" + error.substring(start + 1, end) + "'";
    }
    return fallback;
  }

  private static String safeMessage(ValidatorException e) {
    String message = e.getMessage() == null ? "The request is invalid." : e.getMessage();
    if (message.startsWith("Can't decode URL value")) {
      // the library appends the value: never echo what the caller sent
      return "A request parameter has a broken %-escape.";
    }
    return message.length() > 300 ? message.substring(0, 300) + "…" : message;
  }

  private static List<String> limit(List<String> items, int max) {
    return items.size() <= max ? items : items.subList(0, max);
  }
}

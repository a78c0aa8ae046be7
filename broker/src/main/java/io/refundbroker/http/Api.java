package io.refundbroker.http;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.validation.RequestValidator;
import io.vertx.openapi.validation.ValidatedRequest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * Binds handlers to the operations of the contract ({@code openapi.yaml}). Every request first
 * passes the root checks — request id, access log, {@link RequestHygiene} (header values, path and
 * query well-formed; the body held back) — and then its operation's chain:
 *
 * <ol>
 *   <li>authentication and the role check from the operation's {@code x-roles} ({@link
 *       Authenticator}), from the request head alone: nothing of the body has been read;
 *   <li>{@link BodyGate}: content type (415), announced size (413), an upload slot for {@code
 *       x-large-body} operations (503);
 *   <li>reading the body, within the operation's size limit (413);
 *   <li>{@link JsonBodyRules} for JSON bodies (strict JSON, no control characters or unpaired
 *       surrogates in any string);
 *   <li>validation against the contract;
 *   <li>the feature's handler.
 * </ol>
 *
 * <p>{@link #router()} refuses to build while any operation lacks a handler, so the broker cannot
 * start with a half-implemented contract.
 */
public final class Api {
  public static final String CONTRACT = "openapi.yaml";
  private static final String ROLES_EXTENSION = "x-roles";
  private static final String LARGE_BODY_EXTENSION = "x-large-body";
  private static final String JSON = "application/json";

  private final OpenAPIContract contract;
  private final RouterBuilder builder;
  private final Authenticator authenticator;
  private final RequestValidator validator;
  private final RequestExtractor extractor = RequestExtractor.withBodyHandler();
  private final int maxBodyBytes;
  private final int maxLargeBodyBytes;
  private final UploadSlots uploads;
  private final Set<String> bound = new LinkedHashSet<>();
  private final UnaryOperator<Throwable> translateFailures;

  /**
   * @param authenticator decides from the request head (headers, connection) alone; it must not
   *     read the body, which is held back until it has passed
   * @param uploads the slots shared by every router of the process for {@code x-large-body}
   *     operations
   */
  public Api(
      Vertx vertx,
      OpenAPIContract contract,
      Authenticator authenticator,
      int maxBodyBytes,
      int maxLargeBodyBytes,
      UploadSlots uploads) {
    this(
        vertx,
        contract,
        authenticator,
        maxBodyBytes,
        maxLargeBodyBytes,
        uploads,
        UnaryOperator.identity());
  }

  /**
   * @param authenticator decides from the request head (headers, connection) alone; it must not
   *     read the body, which is held back until it has passed
   * @param uploads the slots shared by every router of the process for {@code x-large-body}
   *     operations
   * @param translateFailures turns failures of layers the failure handler cannot know (the
   *     database's) into problems, or returns them unchanged
   */
  public Api(
      Vertx vertx,
      OpenAPIContract contract,
      Authenticator authenticator,
      int maxBodyBytes,
      int maxLargeBodyBytes,
      UploadSlots uploads,
      UnaryOperator<Throwable> translateFailures) {
    this.translateFailures = translateFailures;
    this.contract = contract;
    this.builder = RouterBuilder.create(vertx, contract, extractor);
    this.authenticator = authenticator;
    this.validator = RequestValidator.create(vertx, CachingContract.of(contract));
    this.maxBodyBytes = maxBodyBytes;
    this.maxLargeBodyBytes = maxLargeBodyBytes;
    this.uploads = uploads;
    builder.rootHandler(new RequestIds());
    builder.rootHandler(new AccessLog());
    builder.rootHandler(new RequestHygiene());
  }

  /**
   * Loads the contract from the classpath. vertx-openapi 5.0 refuses response media types it cannot
   * validate ({@code application/problem+json}, {@code text/csv}, {@code application/yaml});
   * responses are not validated here, so the router gets a copy without them while {@code GET
   * /openapi.yaml} serves the contract unchanged.
   */
  public static Future<OpenAPIContract> loadContract(Vertx vertx) {
    return vertx
        .fileSystem()
        .readFile(CONTRACT)
        .compose(text -> OpenAPIContract.from(vertx, ContractCopy.forRouter(text.toString())));
  }

  public OpenAPIContract contract() {
    return contract;
  }

  /**
   * Binds {@code handler} to {@code operationId}.
   *
   * @throws IllegalArgumentException for an operation the contract does not have, or one bound
   *     twice
   */
  public Api operation(String operationId, Handler<RoutingContext> handler) {
    OpenAPIRoute route = builder.getRoute(operationId);
    if (route == null) {
      throw new IllegalArgumentException("openapi.yaml has no operation " + operationId);
    }
    if (!bound.add(operationId)) {
      throw new IllegalArgumentException("operation " + operationId + " is bound twice");
    }
    Operation operation = route.getOperation();
    route.setDoSecurity(false).setDoValidation(false);
    Set<String> roles = roles(operation);
    if (!roles.isEmpty()) {
      route.addHandler(authenticator.requireAnyOf(roles));
    }
    boolean large = Boolean.TRUE.equals(operation.getExtensions().get(LARGE_BODY_EXTENSION));
    int limit = large ? maxLargeBodyBytes : maxBodyBytes;
    route.addHandler(new BodyGate(operation, limit, large ? uploads : null));
    BodyHandler body =
        BodyHandler.create(false)
            .setBodyLimit(limit)
            .setHandleFileUploads(false)
            .setMergeFormAttributes(false);
    // Vert.x Web wants a BodyHandler ahead of every other handler, which would read the body before
    // authentication. Here it runs after the head checks: RequestHygiene paused a request that
    // announced a body, so no chunk is lost while they run, and the body handler resumes it. A
    // request without one (no length, or "Content-Length: 0") may have ended meanwhile; there is
    // nothing to read then.
    route.addHandler(
        ctx -> {
          if (Bodies.expected(ctx.request())) {
            body.handle(ctx);
          } else {
            ctx.next();
          }
        });
    if (BodyGate.declaredMediaTypes(operation).contains(JSON)) {
      route.addHandler(
          new JsonBodyRules(MultilineMembers.of(contract.getRawContract(), operation)));
    }
    route.addHandler(validation(operation));
    route.addHandler(handler);
    return this;
  }

  /**
   * Builds the router.
   *
   * @throws IllegalStateException naming every operation of the contract without a handler
   */
  public Router router() {
    Set<String> missing = new TreeSet<>();
    for (Operation op : contract.operations()) {
      if (!bound.contains(op.getOperationId())) {
        missing.add(op.getOperationId());
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "openapi.yaml operations without a handler: " + String.join(", ", missing));
    }
    Router router = builder.createRouter();
    FailureHandler failures = new FailureHandler(translateFailures);
    router.route().failureHandler(failures);
    // The root checks refuse what the router cannot decode; this is the safety net behind them.
    router.errorHandler(400, ctx -> Problems.write(ctx, FailureHandler.forStatus(400)));
    router.errorHandler(404, ctx -> Problems.write(ctx, FailureHandler.forStatus(404)));
    router.errorHandler(405, ctx -> Problems.write(ctx, FailureHandler.forStatus(405)));
    router.errorHandler(500, failures);
    return router;
  }

  /** The validated request of an operation (set by the validation step). */
  public static ValidatedRequest validated(RoutingContext ctx) {
    return ctx.get(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST);
  }

  /** Roles the operation accepts; empty for public operations ({@code security: []}). */
  static Set<String> roles(Operation operation) {
    Object raw = operation.getExtensions().get(ROLES_EXTENSION);
    boolean isPublic =
        operation.getSecurityRequirements() != null
            && operation.getSecurityRequirements().isEmpty()
            && operation.getOpenAPIModel().containsKey("security");
    if (raw == null) {
      if (!isPublic) {
        throw new IllegalStateException(
            "operation " + operation.getOperationId() + " needs x-roles or security: []");
      }
      return Set.of();
    }
    List<String> roles = new ArrayList<>();
    if (raw instanceof Iterable<?> items) {
      items.forEach(item -> roles.add(String.valueOf(item)));
    }
    if (roles.isEmpty()) {
      throw new IllegalStateException(
          "operation " + operation.getOperationId() + " has an empty x-roles");
    }
    return new LinkedHashSet<>(roles);
  }

  private Handler<RoutingContext> validation(Operation operation) {
    String operationId = operation.getOperationId();
    return ctx -> {
      StringParameters.shieldHeaders(ctx.request(), operation);
      extractor
          .extractValidatableRequest(ctx, operation)
          .map(request -> StringParameters.quoted(request, operation))
          .compose(request -> validator.validate(request, operationId))
          .onSuccess(
              validated -> {
                ctx.put(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST, validated);
                ctx.next();
              })
          .onFailure(ctx::fail);
    };
  }
}

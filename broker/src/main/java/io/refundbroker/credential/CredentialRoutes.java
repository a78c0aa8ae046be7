package io.refundbroker.credential;

import io.refundbroker.caller.Caller;
import io.refundbroker.config.Secret;
import io.refundbroker.credential.CredentialService.Rotation;
import io.refundbroker.http.Api;
import io.refundbroker.http.Callers;
import io.refundbroker.http.Query;
import io.refundbroker.http.Responses;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.validation.ValidatedRequest;
import java.util.List;
import java.util.function.Function;

/**
 * Admin endpoints for Vipps keys: rotate, list versions, roll back — of a store's sales unit (by
 * store or by MSN) and of a partner. The three key holders have the same three operations; each is
 * one {@link Holder}.
 */
public final class CredentialRoutes {
  private final CredentialService credentials;

  public CredentialRoutes(CredentialService credentials) {
    this.credentials = credentials;
  }

  /**
   * Whose keys an operation changes: the word in its operation ids ({@code
   * rotate<infix>Credentials}, {@code list<infix>CredentialVersions}, {@code
   * rollback<infix>Credentials}), the path parameter naming the holder, and the service's calls for
   * it.
   */
  private record Holder(
      String infix,
      String pathParameter,
      Change<KeySet> rotate,
      Change<Integer> rollback,
      Function<String, Future<JsonObject>> history) {}

  /** A rotation or rollback of one holder's keys. */
  @FunctionalInterface
  private interface Change<T> {
    Future<Rotation> apply(Caller caller, String holderId, T value, boolean validate);
  }

  public void mount(Api api) {
    List<Holder> holders =
        List.of(
            new Holder(
                "", "storeId", credentials::rotate, credentials::rollback, credentials::history),
            new Holder(
                "SalesUnit",
                "msn",
                credentials::rotateSalesUnit,
                credentials::rollbackSalesUnit,
                credentials::salesUnitHistory),
            new Holder(
                "Partner",
                "partnerId",
                credentials::rotatePartner,
                credentials::rollbackPartner,
                credentials::partnerHistory));
    for (Holder holder : holders) {
      api.operation(
              "rotate" + holder.infix() + "Credentials",
              ctx -> change(ctx, holder, holder.rotate(), CredentialRoutes::keys))
          .operation("list" + holder.infix() + "CredentialVersions", ctx -> history(ctx, holder))
          .operation(
              "rollback" + holder.infix() + "Credentials",
              ctx -> change(ctx, holder, holder.rollback(), CredentialRoutes::version));
    }
  }

  private static <T> void change(
      RoutingContext ctx, Holder holder, Change<T> change, Function<ValidatedRequest, T> value) {
    ValidatedRequest request = Api.validated(ctx);
    change
        .apply(
            Callers.of(ctx),
            path(request, holder.pathParameter()),
            value.apply(request),
            validate(request))
        .onSuccess(rotation -> Responses.ok(ctx, rotation.toJson()))
        .onFailure(ctx::fail);
  }

  private static void history(RoutingContext ctx, Holder holder) {
    holder
        .history()
        .apply(path(Api.validated(ctx), holder.pathParameter()))
        .onSuccess(history -> Responses.ok(ctx, history))
        .onFailure(ctx::fail);
  }

  private static KeySet keys(ValidatedRequest request) {
    JsonObject body = request.getBody().getJsonObject();
    return new KeySet(
        body.getString("clientId"),
        Secret.of(body.getString("clientSecret")),
        Secret.of(body.getString("subscriptionKey")));
  }

  private static int version(ValidatedRequest request) {
    return request.getBody().getJsonObject().getInteger("version");
  }

  private static String path(ValidatedRequest request, String name) {
    return request.getPathParameters().get(name).getString();
  }

  private static boolean validate(ValidatedRequest request) {
    return Query.bool(request, "validate", true);
  }
}

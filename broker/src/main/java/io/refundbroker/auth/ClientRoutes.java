package io.refundbroker.auth;

import io.refundbroker.http.Api;
import io.refundbroker.http.Responses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.validation.ValidatedRequest;

/** Admin endpoints for API clients: issue, list, revoke. */
public final class ClientRoutes {
  private final ClientService clients;

  public ClientRoutes(ClientService clients) {
    this.clients = clients;
  }

  public void mount(Api api) {
    api.operation("createClient", this::createClient)
        .operation("listClients", this::listClients)
        .operation("revokeClient", this::revokeClient);
  }

  private void createClient(RoutingContext ctx) {
    JsonObject body = Api.validated(ctx).getBody().getJsonObject();
    Role role = Role.valueOf(body.getString("role"));
    clients
        .issue(Caller.of(ctx), body.getString("name"), role, body.getString("storeId"))
        .onSuccess(
            issued -> {
              JsonObject json =
                  new JsonObject()
                      .put("clientId", issued.client().clientId())
                      .put("token", issued.token())
                      .put("role", issued.client().role().name());
              if (issued.client().storeId() != null) {
                json.put("storeId", issued.client().storeId());
              }
              ctx.response().putHeader("Cache-Control", "no-store");
              Responses.created(ctx, "/v1/admin/clients/" + issued.client().clientId(), json);
            })
        .onFailure(ctx::fail);
  }

  private void listClients(RoutingContext ctx) {
    clients
        .list()
        .onSuccess(
            list -> {
              JsonArray items = new JsonArray();
              list.forEach(client -> items.add(client.toJson()));
              Responses.ok(ctx, new JsonObject().put("clients", items));
            })
        .onFailure(ctx::fail);
  }

  private void revokeClient(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    String clientId = request.getPathParameters().get("clientId").getString();
    clients
        .revoke(Caller.of(ctx), clientId)
        .onSuccess(done -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }
}

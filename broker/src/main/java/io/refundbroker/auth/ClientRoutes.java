package io.refundbroker.auth;

import io.refundbroker.caller.Role;
import io.refundbroker.http.Api;
import io.refundbroker.http.Callers;
import io.refundbroker.http.Responses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.validation.ValidatedRequest;

/**
 * Admin endpoints for API clients: issue (a token, or a certificate from a till's request), list,
 * revoke; and the CA certificate that issues client certificates.
 */
public final class ClientRoutes {
  private final ClientService clients;

  public ClientRoutes(ClientService clients) {
    this.clients = clients;
  }

  public void mount(Api api) {
    api.operation("createClient", this::createClient)
        .operation("listClients", this::listClients)
        .operation("revokeClient", this::revokeClient)
        .operation("getClientCa", this::getClientCa);
  }

  private void createClient(RoutingContext ctx) {
    JsonObject body = Api.validated(ctx).getBody().getJsonObject();
    if (body.containsKey("csr")) {
      enrol(ctx, body);
      return;
    }
    Role role = Role.valueOf(body.getString("role"));
    clients
        .issue(Callers.of(ctx), body.getString("name"), role, body.getString("storeId"))
        .onSuccess(
            issued -> {
              JsonObject json = describe(issued.client()).put("token", issued.token());
              ctx.response().putHeader("Cache-Control", "no-store");
              Responses.created(ctx, "/v1/admin/clients/" + issued.client().clientId(), json);
            })
        .onFailure(ctx::fail);
  }

  private void enrol(RoutingContext ctx, JsonObject body) {
    Role role = Role.valueOf(body.getString("role"));
    clients
        .enrol(
            Callers.of(ctx),
            body.getString("name"),
            role,
            body.getString("storeId"),
            body.getString("csr"))
        .onSuccess(
            enrolled -> {
              JsonObject json =
                  describe(enrolled.client())
                      .put("certificate", enrolled.certificate().pem())
                      .put("serialNumber", enrolled.certificate().serialHex())
                      .put("notAfter", enrolled.certificate().notAfter().toString());
              Responses.created(ctx, "/v1/admin/clients/" + enrolled.client().clientId(), json);
            })
        .onFailure(ctx::fail);
  }

  private static JsonObject describe(ApiClient client) {
    JsonObject json =
        new JsonObject().put("clientId", client.clientId()).put("role", client.role().name());
    if (client.storeId() != null) {
      json.put("storeId", client.storeId());
    }
    return json;
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
        .revoke(Callers.of(ctx), clientId)
        .onSuccess(done -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  private void getClientCa(RoutingContext ctx) {
    clients
        .caCertificate()
        .onSuccess(
            pem ->
                ctx.response()
                    .setStatusCode(200)
                    .putHeader("Content-Type", "application/x-pem-file")
                    .end(pem))
        .onFailure(ctx::fail);
  }
}

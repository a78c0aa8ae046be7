package io.refundbroker.store;

import io.refundbroker.http.Api;
import io.refundbroker.http.Callers;
import io.refundbroker.http.Query;
import io.refundbroker.http.Responses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.validation.ValidatedRequest;

/** Admin endpoints for stores. */
public final class StoreRoutes {
  private final StoreService stores;

  public StoreRoutes(StoreService stores) {
    this.stores = stores;
  }

  public void mount(Api api) {
    api.operation("createStore", this::createStore)
        .operation("listStores", this::listStores)
        .operation("getStore", this::getStore)
        .operation("updateStore", this::updateStore);
  }

  private void createStore(RoutingContext ctx) {
    JsonObject body = Api.validated(ctx).getBody().getJsonObject();
    stores
        .create(Callers.of(ctx), body)
        .onSuccess(store -> Responses.created(ctx, location(store), store.toJson()))
        .onFailure(ctx::fail);
  }

  private void listStores(RoutingContext ctx) {
    String chainId = Query.string(Api.validated(ctx), "chainId");
    stores
        .list(chainId)
        .onSuccess(
            list -> {
              JsonArray items = new JsonArray();
              list.forEach(store -> items.add(store.toJson()));
              Responses.ok(ctx, new JsonObject().put("stores", items));
            })
        .onFailure(ctx::fail);
  }

  private void getStore(RoutingContext ctx) {
    stores
        .get(storeId(Api.validated(ctx)))
        .onSuccess(store -> Responses.ok(ctx, store.toJson()))
        .onFailure(ctx::fail);
  }

  private void updateStore(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    stores
        .update(Callers.of(ctx), storeId(request), request.getBody().getJsonObject())
        .onSuccess(store -> Responses.ok(ctx, store.toJson()))
        .onFailure(ctx::fail);
  }

  private static String storeId(ValidatedRequest request) {
    return request.getPathParameters().get("storeId").getString();
  }

  private static String location(Store store) {
    return "/v1/admin/stores/" + store.storeId();
  }
}

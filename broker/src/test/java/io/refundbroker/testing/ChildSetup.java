package io.refundbroker.testing;

import io.refundbroker.credential.StoreCredentials;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Drives a {@link ChildBroker} over plain HTTP (blocking, from the test thread): the admin and
 * store calls a cross-store refund scenario needs.
 */
public final class ChildSetup {
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private final String baseUrl;
  private final String adminToken;

  public ChildSetup(String baseUrl, String adminToken) {
    this.baseUrl = baseUrl;
    this.adminToken = adminToken;
  }

  /** Creates a store, stores its (sandbox-registered) keys and returns a STORE token for it. */
  public String store(String storeId, String chainId, StoreCredentials keys) {
    expect(
        send(
            "POST",
            "/v1/admin/stores",
            adminToken,
            new JsonObject()
                .put("storeId", storeId)
                .put("name", storeId)
                .put("msn", keys.msn())
                .put("chainId", chainId)),
        201);
    expect(
        send(
            "PUT",
            "/v1/admin/stores/" + storeId + "/credentials",
            adminToken,
            new JsonObject()
                .put("clientId", keys.clientId())
                .put("clientSecret", keys.clientSecret().reveal())
                .put("subscriptionKey", keys.subscriptionKey().reveal())),
        200);
    return token("STORE", storeId);
  }

  /** Issues a client token of {@code role} (bound to {@code storeId} when not null). */
  public String token(String role, String storeId) {
    JsonObject body =
        new JsonObject().put("name", storeId == null ? role.toLowerCase() : storeId + "-pos");
    body.put("role", role);
    if (storeId != null) {
      body.put("storeId", storeId);
    }
    HttpResponse<String> issued = send("POST", "/v1/admin/clients", adminToken, body);
    expect(issued, 201);
    return new JsonObject(issued.body()).getString("token");
  }

  public void registerOrder(String storeToken, String orderId, long value) {
    expect(
        send(
            "POST",
            "/v1/orders",
            storeToken,
            new JsonObject().put("orderId", orderId).put("amount", RefundWorld.nok(value))),
        201);
  }

  /** Sends a refund without waiting for the answer. */
  public CompletableFuture<HttpResponse<String>> refundAsync(
      String storeToken, String key, JsonObject body) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(baseUrl + "/v1/refunds"))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + storeToken)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
            .build();
    return HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> send(String method, String path, String token, JsonObject body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(baseUrl + path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body.encode()));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    try {
      return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError(method + " " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Fails with the request, status and body when {@code response} is not {@code status}. */
  public static void expect(HttpResponse<String> response, int status) {
    if (response.statusCode() != status) {
      throw new AssertionError(
          response.request().method()
              + " "
              + response.request().uri()
              + ": "
              + response.statusCode()
              + " "
              + response.body());
    }
  }
}

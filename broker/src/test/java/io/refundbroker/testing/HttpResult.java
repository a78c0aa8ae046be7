package io.refundbroker.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** A finished HTTP exchange, read back in a test. */
public record HttpResult(int status, MultiMap headers, Buffer body) {

  public JsonObject json() {
    return body == null || body.length() == 0 ? new JsonObject() : body.toJsonObject();
  }

  public JsonArray jsonArray() {
    return body.toJsonArray();
  }

  public String text() {
    return body == null ? "" : body.toString();
  }

  public String header(String name) {
    return headers.get(name);
  }

  /** The problem {@code code} of an error response. */
  public String code() {
    return json().getString("code");
  }

  @Override
  public String toString() {
    return status + " " + text();
  }
}

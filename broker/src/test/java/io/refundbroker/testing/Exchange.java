package io.refundbroker.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One response as the broker sent it, with the request it answered: method, path and query as they
 * arrived, status, headers and body. {@code body} is null when the response was a file the broker
 * streamed from disk (static console pages), whose bytes are not recorded. {@code origin} says
 * which broker sent it (for messages).
 */
public record Exchange(
    String method,
    String path,
    String query,
    int status,
    List<Map.Entry<String, String>> headers,
    byte[] body,
    String origin) {

  /** The first value of header {@code name} (case-insensitive), or null. */
  public String header(String name) {
    for (Map.Entry<String, String> header : headers) {
      if (header.getKey().equalsIgnoreCase(name)) {
        return header.getValue();
      }
    }
    return null;
  }

  /** The media type of {@code Content-Type} without parameters, lower case; null when none. */
  public String mediaType() {
    String contentType = header("Content-Type");
    if (contentType == null) {
      return null;
    }
    int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
        .trim()
        .toLowerCase(Locale.ROOT);
  }

  public String text() {
    return body == null ? "" : new String(body, StandardCharsets.UTF_8);
  }

  /** {@code GET /v1/me?x=1 → 401}, for messages. */
  public String describe() {
    return method
        + " "
        + path
        + (query == null || query.isEmpty() ? "" : "?" + query)
        + " → "
        + status
        + " ("
        + origin
        + ")";
  }

  /** One line of a child broker's exchange log. */
  public JsonObject toJson() {
    JsonArray head = new JsonArray();
    headers.forEach(h -> head.add(new JsonArray().add(h.getKey()).add(h.getValue())));
    return new JsonObject()
        .put("method", method)
        .put("path", path)
        .put("query", query)
        .put("status", status)
        .put("headers", head)
        .put("body", body == null ? null : Base64.getEncoder().encodeToString(body))
        .put("origin", origin);
  }

  public static Exchange fromJson(JsonObject json) {
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    for (Object header : json.getJsonArray("headers")) {
      JsonArray pair = (JsonArray) header;
      headers.add(Map.entry(pair.getString(0), pair.getString(1)));
    }
    String body = json.getString("body");
    return new Exchange(
        json.getString("method"),
        json.getString("path"),
        json.getString("query"),
        json.getInteger("status"),
        List.copyOf(headers),
        body == null ? null : Base64.getDecoder().decode(body),
        json.getString("origin"));
  }
}

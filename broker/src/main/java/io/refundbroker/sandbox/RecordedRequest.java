package io.refundbroker.sandbox;

import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.buffer.Buffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One request the sandbox received on its Vipps API (control-API requests are not recorded: they
 * carry store secrets in their bodies). Headers are kept as sent, secrets included, so contract
 * tests can check them; {@link #toString()} and {@link #describe()} redact them.
 *
 * @param method HTTP method
 * @param path the path, without the query
 * @param query the raw query string, or null
 * @param headers every header in the order received
 * @param body the raw body (empty when there was none)
 * @param receivedAt when it arrived (sandbox clock)
 */
public record RecordedRequest(
    String method,
    String path,
    String query,
    List<Map.Entry<String, String>> headers,
    Buffer body,
    Instant receivedAt) {

  public RecordedRequest {
    headers = headers.stream().map(h -> Map.entry(h.getKey(), h.getValue())).toList();
    body = body == null ? Buffer.buffer() : body.copy();
  }

  /** The first value of a header (names are case-insensitive). */
  public Optional<String> header(String name) {
    return headers.stream()
        .filter(h -> h.getKey().equalsIgnoreCase(name))
        .map(Map.Entry::getValue)
        .findFirst();
  }

  /** All values of a header. */
  public List<String> headerValues(String name) {
    return headers.stream()
        .filter(h -> h.getKey().equalsIgnoreCase(name))
        .map(Map.Entry::getValue)
        .toList();
  }

  /** The body as UTF-8 text. */
  public String bodyText() {
    return body.toString();
  }

  /** Method, path and headers with secrets redacted (safe to log or print). */
  public String describe() {
    return method
        + " "
        + path
        + (query == null ? "" : "?" + query)
        + " ["
        + VippsHeaders.describe(headers)
        + "]";
  }

  @Override
  public String toString() {
    return "RecordedRequest[" + describe() + ", " + body.length() + " body bytes]";
  }
}

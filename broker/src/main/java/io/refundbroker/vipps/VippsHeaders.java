package io.refundbroker.vipps;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Vipps MobilePay header names, and the one place that decides which headers and body fields are
 * secret. Everything that prints a Vipps request or response (the client's HTTP trace, the
 * sandbox's request log and control API) redacts through here.
 */
public final class VippsHeaders {
  public static final String CLIENT_ID = "client_id";
  public static final String CLIENT_SECRET = "client_secret";
  public static final String SUBSCRIPTION_KEY = "Ocp-Apim-Subscription-Key";
  public static final String AUTHORIZATION = "Authorization";
  public static final String MSN = "Merchant-Serial-Number";
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  public static final String REQUEST_ID = "X-Request-Id";
  public static final String SYSTEM_NAME = "Vipps-System-Name";
  public static final String SYSTEM_VERSION = "Vipps-System-Version";
  public static final String PLUGIN_NAME = "Vipps-System-Plugin-Name";
  public static final String PLUGIN_VERSION = "Vipps-System-Plugin-Version";

  /** What a redacted value is replaced with. */
  public static final String REDACTED = "[redacted]";

  private static final Set<String> SECRET =
      Set.of(
          CLIENT_ID.toLowerCase(Locale.ROOT),
          CLIENT_SECRET.toLowerCase(Locale.ROOT),
          SUBSCRIPTION_KEY.toLowerCase(Locale.ROOT),
          AUTHORIZATION.toLowerCase(Locale.ROOT),
          "proxy-authorization",
          "cookie",
          "set-cookie");

  /** Body fields of token responses that are credentials. */
  private static final Set<String> SECRET_FIELDS = Set.of("access_token", "refresh_token");

  private VippsHeaders() {}

  /** Whether a header's value must never be printed. */
  public static boolean isSecret(String headerName) {
    return SECRET.contains(headerName.toLowerCase(Locale.ROOT));
  }

  /** {@code name: value} lines, one per header, with secret values replaced. */
  public static String describe(Iterable<Map.Entry<String, String>> headers) {
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, String> header : headers) {
      if (!out.isEmpty()) {
        out.append(", ");
      }
      out.append(header.getKey())
          .append(": ")
          .append(isSecret(header.getKey()) ? REDACTED : header.getValue());
    }
    return out.toString();
  }

  /** Same as {@link #describe(Iterable)} for a Vert.x header map. */
  public static String describe(MultiMap headers) {
    return describe(headers.entries());
  }

  /**
   * A body made safe to print: JSON objects with their credential fields replaced; anything that is
   * not JSON (which could be anything) is summarised by its size only when {@code mayHoldToken}.
   */
  public static String describeBody(Buffer body, boolean mayHoldToken) {
    if (body == null || body.length() == 0) {
      return "";
    }
    if (!mayHoldToken) {
      return abbreviate(body.toString());
    }
    try {
      JsonObject json = new JsonObject(body);
      for (String field : SECRET_FIELDS) {
        if (json.containsKey(field)) {
          json.put(field, REDACTED);
        }
      }
      return abbreviate(json.encode());
    } catch (DecodeException | ClassCastException e) {
      return "[" + body.length() + " bytes, not JSON: omitted]";
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 2000 ? text : text.substring(0, 2000) + "…";
  }
}

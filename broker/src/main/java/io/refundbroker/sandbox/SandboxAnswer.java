package io.refundbroker.sandbox;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * A prepared HTTP answer of the sandbox's Vipps, and the three error formats Vipps answers in:
 * ePayment {@code application/problem+json}, eCom error arrays, Azure API-gateway errors (401, 429,
 * unknown paths).
 *
 * @param status the HTTP status
 * @param contentType the {@code Content-Type}
 * @param body the body bytes
 */
record SandboxAnswer(int status, String contentType, Buffer body) {
  /** Base of the ePayment problem types the sandbox answers with. */
  static final String PROBLEM_BASE =
      "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/problems#";

  static final String JSON = "application/json";
  static final String JSON_UTF8 = "application/json;charset=UTF-8";
  static final String PROBLEM = "application/problem+json";

  /** A JSON answer (an object or an array). */
  static SandboxAnswer json(int status, String contentType, Object json) {
    Buffer body =
        json instanceof JsonArray array
            ? array.toBuffer()
            : json instanceof JsonObject object ? object.toBuffer() : Buffer.buffer();
    return new SandboxAnswer(status, contentType, body);
  }

  /** An ePayment problem whose {@code type} ends in {@code type}. */
  static SandboxAnswer problem(int status, String type, String title, String detail) {
    JsonObject body =
        new JsonObject()
            .put("type", PROBLEM_BASE + type)
            .put("title", title)
            .put("detail", detail)
            .put("status", status)
            .put("traceId", UUID.randomUUID().toString());
    return json(status, PROBLEM, body);
  }

  /** An eCom error array with one error. */
  static SandboxAnswer ecomError(int status, String group, String code, String message) {
    JsonArray body =
        new JsonArray()
            .add(
                new JsonObject()
                    .put("errorGroup", group)
                    .put("errorCode", code)
                    .put("errorMessage", message)
                    .put("contextId", UUID.randomUUID().toString()));
    return json(status, JSON_UTF8, body);
  }

  /** An Azure API-management error. */
  static SandboxAnswer azure(int status, String message) {
    return json(status, JSON, new JsonObject().put("statusCode", status).put("message", message));
  }

  /** The gateway's answer to a missing, expired or foreign token. */
  static SandboxAnswer unauthorized() {
    return azure(
        401,
        "Access denied due to invalid or expired access token, subscription key or"
            + " Merchant-Serial-Number");
  }

  /** The gateway's rate limit. */
  static SandboxAnswer tooManyRequests() {
    return azure(429, "Rate limit is exceeded. Try again in 60 seconds.");
  }

  /** The answer a STATUS fault gives, in the format of the endpoint it hits. */
  static SandboxAnswer fault(String path, int status) {
    if (status == 429 || path.startsWith("/accesstoken/")) {
      return azure(status, status == 429 ? "Rate limit is exceeded." : "Server error");
    }
    if (path.startsWith("/ecomm/")) {
      return ecomError(status, "VippsError", "99", "Internal error");
    }
    return problem(status, "internal-error", "Internal error", "Internal error (injected fault)");
  }

  /** An unknown path. */
  static SandboxAnswer notFound() {
    return azure(404, "Resource not found");
  }

  /** A request body as a JSON object, or null when it is empty or not one. */
  static JsonObject object(Buffer raw) {
    if (raw == null || raw.length() == 0) {
      return null;
    }
    try {
      return new JsonObject(raw);
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }
}

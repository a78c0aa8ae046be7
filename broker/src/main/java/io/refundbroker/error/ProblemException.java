package io.refundbroker.error;

import io.refundbroker.http.FailureHandler;
import io.vertx.core.json.JsonObject;

/**
 * A failure that reaches the caller as an {@code application/problem+json} body. It carries the
 * HTTP status, a stable machine-readable {@code code} and a {@code detail} written for a POS
 * developer. Never put secrets, SQL or upstream bodies into the detail.
 *
 * <p>Services fail their futures with these; the one failure handler ({@link FailureHandler})
 * writes them. Anything else that reaches the failure handler becomes a 500 with no detail.
 */
public class ProblemException extends RuntimeException {
  private final int status;
  private final String code;
  private final String title;
  private final JsonObject extensions;

  public ProblemException(int status, String code, String title, String detail) {
    this(status, code, title, detail, null);
  }

  public ProblemException(
      int status, String code, String title, String detail, JsonObject extensions) {
    super(detail, null, false, false);
    this.status = status;
    this.code = code;
    this.title = title;
    this.extensions = extensions == null ? new JsonObject() : extensions.copy();
  }

  public static ProblemException badRequest(String code, String detail) {
    return new ProblemException(400, code, "Bad request", detail);
  }

  public static ProblemException unauthorized(String detail) {
    return new ProblemException(401, "UNAUTHORIZED", "Unauthorized", detail);
  }

  public static ProblemException forbidden(String detail) {
    return new ProblemException(403, "FORBIDDEN", "Forbidden", detail);
  }

  public static ProblemException notFound(String code, String detail) {
    return new ProblemException(404, code, "Not found", detail);
  }

  public static ProblemException conflict(String code, String detail) {
    return new ProblemException(409, code, "Conflict", detail);
  }

  public static ProblemException unprocessable(String code, String detail) {
    return new ProblemException(422, code, "Unprocessable request", detail);
  }

  public static ProblemException unavailable(String code, String detail) {
    return new ProblemException(503, code, "Service unavailable", detail);
  }

  /** Returns a copy with one more member in the problem body (e.g. {@code candidates}). */
  public ProblemException with(String name, Object value) {
    JsonObject ext = extensions.copy().put(name, value);
    return new ProblemException(status, code, title, getMessage(), ext);
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public String title() {
    return title;
  }

  public String detail() {
    return getMessage();
  }

  public JsonObject extensions() {
    return extensions.copy();
  }
}

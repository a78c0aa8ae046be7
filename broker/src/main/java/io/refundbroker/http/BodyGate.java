package io.refundbroker.http;

import io.refundbroker.error.ProblemException;
import io.refundbroker.text.Text;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.RequestBody;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The checks on a request body that need only the request head, run after authentication and before
 * a byte of the body is read: the content type is one the operation declares (415), the announced
 * length fits the operation's limit (413), and for large-body operations a slot is free (503 {@code
 * TOO_MANY_UPLOADS}, see {@link UploadSlots}). Form and multipart bodies are refused everywhere: no
 * operation takes them, and decoding them is how a body would escape the size limit.
 */
final class BodyGate implements Handler<RoutingContext> {
  private static final Set<String> FORMS =
      Set.of("application/x-www-form-urlencoded", "multipart/form-data");

  private final Set<String> mediaTypes;
  private final long limit;
  private final UploadSlots slots;

  /**
   * @param slots the slots large bodies take, or null for an operation with ordinary bodies
   */
  BodyGate(Operation operation, long limit, UploadSlots slots) {
    this.mediaTypes = declaredMediaTypes(operation);
    this.limit = limit;
    this.slots = slots;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    if (!Bodies.expected(request)) {
      ctx.next();
      return;
    }
    ProblemException problem = contentTypeProblem(request.getHeader(HttpHeaders.CONTENT_TYPE));
    if (problem == null && Bodies.contentLength(request) > limit) {
      problem = FailureHandler.forStatus(413);
    }
    if (problem == null && slots != null) {
      if (!slots.tryTake()) {
        problem = busy();
      } else {
        ctx.addEndHandler(done -> slots.giveBack());
      }
    }
    if (problem != null) {
      ctx.fail(problem);
      return;
    }
    ctx.next();
  }

  private ProblemException contentTypeProblem(String header) {
    String type = header == null ? null : mediaType(header);
    if (mediaTypes.isEmpty()) {
      // A body nobody reads (e.g. '{}' on a DELETE) is drained within the size limit, but never
      // decoded as a form.
      return type != null && FORMS.contains(type)
          ? unsupported("This operation takes no request body.")
          : null;
    }
    String wanted = String.join(" or ", mediaTypes);
    if (type == null) {
      return unsupported("Send the body as " + wanted + " with a Content-Type header.");
    }
    if (!mediaTypes.contains(type)) {
      return unsupported(
          "Send the body as "
              + wanted
              + "; this operation does not accept '"
              + Text.quote(type, 100)
              + "'.");
    }
    if (!utf8OrNoCharset(header)) {
      return unsupported("Send the body as " + wanted + " in UTF-8 (charset=utf-8).");
    }
    return null;
  }

  private static ProblemException unsupported(String detail) {
    return new ProblemException(415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type", detail);
  }

  private ProblemException busy() {
    return ProblemException.unavailable(
        "TOO_MANY_UPLOADS",
        "The broker is already receiving "
            + slots.capacity()
            + " large uploads (BROKER_MAX_CONCURRENT_UPLOADS); retry when one has finished.");
  }

  static Set<String> declaredMediaTypes(Operation operation) {
    Set<String> types = new TreeSet<>();
    RequestBody body = operation.getRequestBody();
    if (body != null && body.getContent() != null) {
      body.getContent().keySet().forEach(type -> types.add(mediaType(type)));
    }
    return types;
  }

  /** {@code type/subtype} in lower case, without parameters. */
  static String mediaType(String header) {
    int semicolon = header.indexOf(';');
    String type = semicolon < 0 ? header : header.substring(0, semicolon);
    return type.trim().toLowerCase(Locale.ROOT);
  }

  /** Whether a {@code charset} parameter, if any, names UTF-8. */
  static boolean utf8OrNoCharset(String header) {
    for (String parameter : header.split(";")) {
      int equals = parameter.indexOf('=');
      if (equals > 0 && parameter.substring(0, equals).trim().equalsIgnoreCase("charset")) {
        String charset = parameter.substring(equals + 1).trim().replace("\"", "");
        if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
          return false;
        }
      }
    }
    return true;
  }
}

package io.refundbroker.http;

import io.refundbroker.error.ProblemException;
import io.refundbroker.text.Text;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The first check of every request, from its head alone and before any route matches: header values
 * carry no control characters, the path and the query are well-formed (every {@code %} is followed
 * by two hex digits, the escapes decode to UTF-8, and nothing decodes to a control character). A
 * refusal is a 400 problem naming the header, the path or the query parameter — never echoing the
 * value. It also holds the body back ({@link Bodies#holdBack}) so that nothing of it is read before
 * the operation's head checks (authentication first) have passed.
 */
public final class RequestHygiene implements Handler<RoutingContext> {

  @Override
  public void handle(RoutingContext ctx) {
    Bodies.holdBack(ctx.request());
    ProblemException problem = headerProblem(ctx);
    if (problem == null) {
      problem = uriProblem(ctx.request().uri());
    }
    if (problem != null) {
      ctx.fail(problem);
      return;
    }
    ctx.next();
  }

  private static ProblemException headerProblem(RoutingContext ctx) {
    for (Map.Entry<String, String> header : ctx.request().headers()) {
      if (Text.firstControl(header.getValue(), true) >= 0) {
        return ProblemException.badRequest(
            "MALFORMED_HEADER",
            "Header '"
                + Text.quote(header.getKey(), 64)
                + "' contains a control character; header values must be visible text.");
      }
    }
    return null;
  }

  /** The problem with a request target ({@code path?query}), or null when it is well-formed. */
  static ProblemException uriProblem(String uri) {
    if (uri == null) {
      return null;
    }
    int question = uri.indexOf('?');
    String path = question < 0 ? uri : uri.substring(0, question);
    String query = question < 0 ? null : uri.substring(question + 1);
    int hash = query == null ? -1 : query.indexOf('#');
    if (hash >= 0) {
      query = query.substring(0, hash);
    }
    if (decode(path, false) == null) {
      return ProblemException.badRequest(
          "MALFORMED_PATH",
          "The request path has a broken %-escape, is not UTF-8 or encodes a control character;"
              + " escape reserved characters as %XX (two hex digits).");
    }
    if (query == null || query.isEmpty()) {
      return null;
    }
    for (String pair : query.split("&", -1)) {
      int equals = pair.indexOf('=');
      String rawName = equals < 0 ? pair : pair.substring(0, equals);
      String name = decode(rawName, true);
      String value = equals < 0 ? "" : decode(pair.substring(equals + 1), true);
      if (name == null || value == null) {
        String which = name == null ? "a parameter name" : "parameter '" + name + "'";
        return ProblemException.badRequest(
            "MALFORMED_QUERY",
            "The query string is malformed at "
                + which
                + ": a broken %-escape, bytes that are not UTF-8 or an encoded control character;"
                + " escape reserved characters as %XX (two hex digits).");
      }
    }
    return null;
  }

  /**
   * Percent-decodes {@code raw} strictly (UTF-8, every escape complete, no control characters in
   * the result, only visible ASCII in the raw form).
   *
   * @return the decoded text, or null when it is malformed
   */
  static String decode(String raw, boolean plusIsSpace) {
    if (plain(raw, plusIsSpace)) {
      return raw;
    }
    byte[] bytes = new byte[raw.length()];
    int n = 0;
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c <= 0x20 || c >= 0x7F) {
        return null;
      }
      if (c == '%') {
        if (i + 2 >= raw.length()) {
          return null;
        }
        int high = Character.digit(raw.charAt(i + 1), 16);
        int low = Character.digit(raw.charAt(i + 2), 16);
        if (high < 0 || low < 0) {
          return null;
        }
        bytes[n++] = (byte) (high * 16 + low);
        i += 2;
      } else {
        bytes[n++] = (byte) (plusIsSpace && c == '+' ? ' ' : c);
      }
    }
    String decoded;
    try {
      decoded =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes, 0, n))
              .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    return Text.firstControl(decoded, false) >= 0 ? null : decoded;
  }

  /** Visible ASCII without escapes decodes to itself (the usual case, without allocating). */
  private static boolean plain(String raw, boolean plusIsSpace) {
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c <= 0x20 || c >= 0x7F || c == '%' || (plusIsSpace && c == '+')) {
        return false;
      }
    }
    return true;
  }
}

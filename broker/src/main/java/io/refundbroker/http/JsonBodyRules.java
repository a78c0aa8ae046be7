package io.refundbroker.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.refundbroker.error.ProblemException;
import io.refundbroker.text.Text;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

/**
 * The rules every JSON request body meets before it is validated against the contract, in one place
 * for all operations: strict RFC 8259 JSON (no comments, single quotes, trailing commas or content
 * after the value — the JSON decoder behind the contract validator accepts comments), no member
 * repeated within an object, and in every string (member names included) no control character — C0
 * (TAB, CR and LF too: no field of the API is multi-line), DEL or C1 — and no unpaired UTF-16
 * surrogate. A refusal is a 400 problem that names the member by its JSON pointer and the character
 * by its code point, never echoing the value.
 *
 * <p>The one exception is a member whose schema says {@code x-multiline: true} (a PEM document such
 * as a certificate request): it may also hold line breaks (LF, CR), nothing else.
 */
final class JsonBodyRules implements Handler<RoutingContext> {
  /** Jackson's defaults are strict RFC 8259; Vert.x's shared factory allows comments. */
  private static final JsonFactory STRICT = JsonFactory.builder().build();

  private final Set<String> multiline;

  /**
   * @param multiline JSON pointers of the members that may hold line breaks ({@code /csr})
   */
  JsonBodyRules(Set<String> multiline) {
    this.multiline = Set.copyOf(multiline);
  }

  JsonBodyRules() {
    this(Set.of());
  }

  @Override
  public void handle(RoutingContext ctx) {
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    if (body == null || body.length() == 0) {
      ctx.next();
      return;
    }
    ProblemException problem = check(body.getBytes(), multiline);
    if (problem != null) {
      ctx.fail(problem);
      return;
    }
    ctx.next();
  }

  /** The problem with a JSON body, or null when it meets the rules. */
  static ProblemException check(byte[] json) {
    return check(json, Set.of());
  }

  /**
   * The problem with a JSON body, or null when it meets the rules; the members at {@code multiline}
   * may hold line breaks.
   */
  static ProblemException check(byte[] json, Set<String> multiline) {
    try (JsonParser parser = STRICT.createParser(json)) {
      Deque<Set<String>> members = new ArrayDeque<>();
      JsonToken token = parser.nextToken();
      if (token == null) {
        return malformed(null);
      }
      for (; token != null; token = parser.nextToken()) {
        ProblemException problem =
            switch (token) {
              case START_OBJECT -> {
                members.push(new HashSet<>());
                yield null;
              }
              case END_OBJECT -> {
                members.pop();
                yield null;
              }
              case FIELD_NAME -> member(parser, members.peek());
              case VALUE_STRING ->
                  text(
                      parser.getText(),
                      pointer(parser),
                      multiline.contains(parser.getParsingContext().pathAsPointer().toString()));
              default -> null;
            };
        if (problem != null) {
          return problem;
        }
        if (parser.getParsingContext().inRoot()) {
          // The one top-level value is complete; Jackson would read a second one.
          return parser.nextToken() == null ? null : trailing(parser.currentLocation());
        }
      }
      return null;
    } catch (JsonProcessingException e) {
      return malformed(e.getLocation());
    } catch (IOException e) {
      return malformed(null);
    }
  }

  private static ProblemException member(JsonParser parser, Set<String> seen) throws IOException {
    String name = parser.currentName();
    ProblemException problem = text(name, "The member name at " + pointer(parser), false);
    if (problem != null) {
      return problem;
    }
    if (!seen.add(name)) {
      return ProblemException.badRequest(
          "DUPLICATE_MEMBER",
          pointer(parser)
              + " appears more than once in its object; send each member once (RFC 8259).");
    }
    return null;
  }

  private static ProblemException text(String value, String subject, boolean lineBreaks) {
    int control =
        Text.firstControl(lineBreaks ? value.replace('\n', ' ').replace('\r', ' ') : value, false);
    if (control >= 0) {
      return invalid(
          subject
              + " contains a control character ("
              + Text.codePoint(value.charAt(control))
              + "); text members accept printable characters only (no tabs or line breaks).");
    }
    int surrogate = Text.firstUnpairedSurrogate(value);
    if (surrogate >= 0) {
      return invalid(
          subject
              + " contains an unpaired UTF-16 surrogate ("
              + Text.codePoint(value.charAt(surrogate))
              + "); send valid Unicode text.");
    }
    return null;
  }

  /** The member's JSON pointer ({@code /amount/currency}), or {@code body} for the root. */
  private static String pointer(JsonParser parser) {
    String pointer = parser.getParsingContext().pathAsPointer().toString();
    return pointer.isEmpty() ? "body" : Text.quote(pointer, 120);
  }

  private static ProblemException invalid(String detail) {
    return ProblemException.badRequest("INVALID_CHARACTER", detail);
  }

  private static ProblemException trailing(JsonLocation location) {
    return ProblemException.badRequest(
        "MALFORMED_JSON", "The request body has content after its JSON value" + at(location) + ".");
  }

  private static ProblemException malformed(JsonLocation location) {
    return ProblemException.badRequest(
        "MALFORMED_JSON",
        "The request body is not valid JSON"
            + at(location)
            + " (strict RFC 8259: no comments, single quotes or trailing commas; UTF-8).");
  }

  private static String at(JsonLocation location) {
    if (location == null || location.getLineNr() < 1) {
      return "";
    }
    return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
  }
}

package io.refundbroker.testing.vault;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Vault ACL policy in the HCL subset the project's policies use: {@code path "<glob>" {
 * capabilities = ["…", …] }} blocks and {@code #}, {@code //} and {@code /* *\/} comments. Anything
 * else is refused, so a policy feature the double cannot enforce is never silently ignored. {@link
 * Acl} evaluates a set of policies the way Vault does: deny by default, only the most specific
 * matching pattern applies (identical patterns of several policies are unioned), and {@code deny}
 * beats everything.
 */
public final class HclPolicy {
  private static final Set<String> CAPABILITIES =
      Set.of("create", "read", "update", "patch", "delete", "list", "sudo", "deny");

  /** One {@code path} block. */
  public record Rule(String pattern, Set<String> capabilities) {}

  private final String name;
  private final List<Rule> rules;

  private HclPolicy(String name, List<Rule> rules) {
    this.name = name;
    this.rules = List.copyOf(rules);
  }

  public String name() {
    return name;
  }

  public List<Rule> rules() {
    return rules;
  }

  /**
   * Parses a policy.
   *
   * @throws IllegalArgumentException naming the policy and what was not understood
   */
  public static HclPolicy parse(String name, String text) {
    Tokens t = new Tokens(name, stripComments(text));
    List<Rule> rules = new ArrayList<>();
    while (t.more()) {
      t.expectWord("path");
      String pattern = t.string();
      validatePattern(name, pattern);
      t.expect('{');
      Set<String> caps = null;
      while (!t.peek('}')) {
        String attribute = t.word();
        if (!attribute.equals("capabilities")) {
          throw new IllegalArgumentException(
              name + ": unsupported policy attribute '" + attribute + "' in path " + pattern);
        }
        t.expect('=');
        t.expect('[');
        caps = new LinkedHashSet<>();
        while (!t.peek(']')) {
          String cap = t.string();
          if (!CAPABILITIES.contains(cap)) {
            throw new IllegalArgumentException(name + ": unknown capability '" + cap + "'");
          }
          caps.add(cap);
          if (!t.peek(']')) {
            t.expect(',');
          }
        }
        t.expect(']');
      }
      t.expect('}');
      if (caps == null) {
        throw new IllegalArgumentException(name + ": path " + pattern + " has no capabilities");
      }
      rules.add(new Rule(pattern, caps));
    }
    return new HclPolicy(name, rules);
  }

  private static void validatePattern(String name, String pattern) {
    int star = pattern.indexOf('*');
    if (star >= 0 && star != pattern.length() - 1) {
      throw new IllegalArgumentException(name + ": '*' is only allowed at the end: " + pattern);
    }
    for (String segment : pattern.split("/", -1)) {
      if (segment.contains("+") && !segment.equals("+")) {
        throw new IllegalArgumentException(name + ": '+' must be a whole segment: " + pattern);
      }
    }
  }

  private static String stripComments(String text) {
    StringBuilder out = new StringBuilder();
    boolean inString = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (inString) {
        out.append(c);
        if (c == '\\' && i + 1 < text.length()) {
          out.append(text.charAt(++i));
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
        out.append(c);
      } else if (c == '#' || (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '/')) {
        while (i < text.length() && text.charAt(i) != '\n') {
          i++;
        }
        out.append('\n');
      } else if (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '*') {
        int end = text.indexOf("*/", i + 2);
        i = end < 0 ? text.length() : end + 1;
        out.append(' ');
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** A minimal tokenizer over the comment-free text. */
  private static final class Tokens {
    private final String policy;
    private final String text;
    private int pos;

    Tokens(String policy, String text) {
      this.policy = policy;
      this.text = text;
    }

    boolean more() {
      skip();
      return pos < text.length();
    }

    boolean peek(char c) {
      skip();
      return pos < text.length() && text.charAt(pos) == c;
    }

    void expect(char c) {
      if (!peek(c)) {
        throw error("expected '" + c + "'");
      }
      pos++;
    }

    void expectWord(String word) {
      String got = word();
      if (!got.equals(word)) {
        throw error("expected '" + word + "' but found '" + got + "'");
      }
    }

    String word() {
      skip();
      int start = pos;
      while (pos < text.length()
          && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
        pos++;
      }
      if (start == pos) {
        throw error("expected a word");
      }
      return text.substring(start, pos);
    }

    String string() {
      expect('"');
      StringBuilder s = new StringBuilder();
      while (pos < text.length() && text.charAt(pos) != '"') {
        char c = text.charAt(pos++);
        if (c == '\\' && pos < text.length()) {
          c = text.charAt(pos++);
        }
        s.append(c);
      }
      expect('"');
      return s.toString();
    }

    private void skip() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }

    private IllegalArgumentException error(String what) {
      int line = 1;
      for (int i = 0; i < Math.min(pos, text.length()); i++) {
        if (text.charAt(i) == '\n') {
          line++;
        }
      }
      return new IllegalArgumentException(policy + ": line " + line + ": " + what);
    }
  }

  /** The effective ACL of a token: the union of its policies, evaluated like Vault. */
  public static final class Acl {
    private final List<Rule> rules = new ArrayList<>();
    private final boolean root;

    public Acl(Collection<HclPolicy> policies, boolean root) {
      policies.forEach(p -> rules.addAll(p.rules()));
      this.root = root;
    }

    /** The capabilities granted on {@code path} (empty when denied or nothing matches). */
    public Set<String> capabilities(String path) {
      if (root) {
        return CAPABILITIES;
      }
      String best = null;
      for (Rule rule : rules) {
        if (matches(rule.pattern(), path) && (best == null || higher(rule.pattern(), best))) {
          best = rule.pattern();
        }
      }
      Set<String> caps = new LinkedHashSet<>();
      for (Rule rule : rules) {
        if (rule.pattern().equals(best)) {
          caps.addAll(rule.capabilities());
        }
      }
      return caps.contains("deny") ? Set.of() : caps;
    }

    /** Whether {@code capability} is granted on {@code path}. */
    public boolean allows(String path, String capability) {
      return capabilities(path).contains(capability);
    }

    static boolean matches(String pattern, String path) {
      StringBuilder regex = new StringBuilder();
      String body = pattern.endsWith("*") ? pattern.substring(0, pattern.length() - 1) : pattern;
      String[] segments = body.split("/", -1);
      for (int i = 0; i < segments.length; i++) {
        if (i > 0) {
          regex.append('/');
        }
        regex.append(segments[i].equals("+") ? "[^/]+" : Pattern.quote(segments[i]));
      }
      if (pattern.endsWith("*")) {
        regex.append(".*");
      }
      return Pattern.matches(regex.toString(), path);
    }

    /** Vault's priority rules: is {@code a} more specific than {@code b}? */
    static boolean higher(String a, String b) {
      int wa = firstWildcard(a);
      int wb = firstWildcard(b);
      if (wa != wb) {
        return wa > wb;
      }
      boolean ga = a.endsWith("*");
      boolean gb = b.endsWith("*");
      if (ga != gb) {
        return !ga;
      }
      long pa = plusSegments(a);
      long pb = plusSegments(b);
      if (pa != pb) {
        return pa < pb;
      }
      if (a.length() != b.length()) {
        return a.length() > b.length();
      }
      return a.compareTo(b) > 0;
    }

    private static int firstWildcard(String pattern) {
      int plus = -1;
      String[] segments = pattern.split("/", -1);
      int offset = 0;
      for (String segment : segments) {
        if (segment.equals("+")) {
          plus = offset;
          break;
        }
        offset += segment.length() + 1;
      }
      int star = pattern.indexOf('*');
      int first = Integer.MAX_VALUE;
      if (plus >= 0) {
        first = plus;
      }
      if (star >= 0) {
        first = Math.min(first, star);
      }
      return first;
    }

    private static long plusSegments(String pattern) {
      long n = 0;
      for (String segment : pattern.split("/", -1)) {
        if (segment.equals("+")) {
          n++;
        }
      }
      return n;
    }
  }
}

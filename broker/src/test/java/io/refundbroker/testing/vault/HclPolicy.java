package io.refundbroker.testing.vault;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Vault ACL policy in the HCL subset the project's policies use: {@code path "<glob>" {
 * capabilities = ["…", …] }} blocks, optionally with Vault's parameter constraints {@code
 * allowed_parameters = { "name" = [values…] }}, {@code denied_parameters = {…}} and {@code
 * required_parameters = ["…"]}, and {@code #}, {@code //} and {@code /* *\/} comments. Anything
 * else is refused, so a policy feature the double cannot enforce is never silently ignored. {@link
 * Acl} evaluates a set of policies the way Vault does ({@code vault/acl.go}): deny by default, only
 * the most specific matching pattern applies (identical patterns of several policies are unioned,
 * their parameter constraints merged), {@code deny} beats everything, and the request's parameters
 * (a write's top-level body keys, a read's query) must pass the constraints.
 */
public final class HclPolicy {
  private static final Set<String> CAPABILITIES =
      Set.of("create", "read", "update", "patch", "delete", "list", "sudo", "deny");

  /** One {@code path} block. */
  public record Rule(String pattern, Set<String> capabilities, Parameters parameters) {}

  /**
   * Parameter constraints of a path (Vault's "fine-grained control"); names are lower-cased as
   * Vault does. An empty value list means any value; {@code "*"} as a name means any parameter.
   */
  public record Parameters(
      Map<String, List<Object>> allowed, Map<String, List<Object>> denied, List<String> required) {
    static final Parameters NONE = new Parameters(Map.of(), Map.of(), List.of());

    /** Vault's merge of two policies' constraints on an identical pattern ({@code NewACL}). */
    Parameters merge(Parameters other) {
      return new Parameters(
          mergeValues(allowed, other.allowed),
          mergeValues(denied, other.denied),
          List.copyOf(new LinkedHashSet<>(concat(required, other.required))));
    }

    private static Map<String, List<Object>> mergeValues(
        Map<String, List<Object>> existing, Map<String, List<Object>> added) {
      if (added.isEmpty()) {
        return existing;
      }
      if (existing.isEmpty()) {
        return added;
      }
      Map<String, List<Object>> merged = new LinkedHashMap<>(existing);
      added.forEach(
          (name, values) -> {
            List<Object> before = merged.get(name);
            // an empty list (any value) on either side wins
            merged.put(
                name,
                values.isEmpty() || (before != null && before.isEmpty())
                    ? List.of()
                    : concat(values, before == null ? List.of() : before));
          });
      return Map.copyOf(merged);
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
      List<T> all = new ArrayList<>(a);
      all.addAll(b);
      return List.copyOf(all);
    }
  }

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
      Map<String, List<Object>> allowed = Map.of();
      Map<String, List<Object>> denied = Map.of();
      List<String> required = List.of();
      while (!t.peek('}')) {
        String attribute = t.word();
        t.expect('=');
        switch (attribute) {
          case "capabilities" -> {
            caps = new LinkedHashSet<>();
            for (Object cap : t.list()) {
              if (!(cap instanceof String c) || !CAPABILITIES.contains(c)) {
                throw new IllegalArgumentException(name + ": unknown capability '" + cap + "'");
              }
              caps.add(c);
            }
          }
          case "allowed_parameters" -> allowed = t.parameterMap();
          case "denied_parameters" -> denied = t.parameterMap();
          case "required_parameters" ->
              required = t.list().stream().map(p -> p.toString().toLowerCase(Locale.ROOT)).toList();
          default ->
              throw new IllegalArgumentException(
                  name + ": unsupported policy attribute '" + attribute + "' in path " + pattern);
        }
      }
      t.expect('}');
      if (caps == null) {
        throw new IllegalArgumentException(name + ": path " + pattern + " has no capabilities");
      }
      rules.add(new Rule(pattern, caps, new Parameters(allowed, denied, required)));
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

    /** {@code [v, …]} of strings, numbers and booleans (a trailing comma is allowed). */
    List<Object> list() {
      expect('[');
      List<Object> values = new ArrayList<>();
      while (!peek(']')) {
        values.add(value());
        if (!peek(']')) {
          expect(',');
        }
      }
      expect(']');
      return List.copyOf(values);
    }

    /** {@code { name = [v, …] … }}, entries separated by newlines or commas. */
    Map<String, List<Object>> parameterMap() {
      expect('{');
      Map<String, List<Object>> map = new LinkedHashMap<>();
      while (!peek('}')) {
        String key = peek('"') ? string() : word();
        expect('=');
        map.put(key.toLowerCase(Locale.ROOT), list());
        if (peek(',')) {
          pos++;
        }
      }
      expect('}');
      return Map.copyOf(map);
    }

    private Object value() {
      if (peek('"')) {
        return string();
      }
      skip();
      int start = pos;
      while (pos < text.length()
          && (Character.isLetterOrDigit(text.charAt(pos))
              || ".-+".indexOf(text.charAt(pos)) >= 0)) {
        pos++;
      }
      String raw = text.substring(start, pos);
      if (raw.equals("true") || raw.equals("false")) {
        return Boolean.valueOf(raw);
      }
      try {
        return new java.math.BigDecimal(raw);
      } catch (NumberFormatException e) {
        throw error("expected a string, number or boolean but found '" + raw + "'");
      }
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
      return root ? CAPABILITIES : permissions(path).capabilities();
    }

    /** Whether {@code capability} is granted on {@code path} (parameters not considered). */
    public boolean allows(String path, String capability) {
      return capabilities(path).contains(capability);
    }

    /**
     * Whether a request needing {@code capability} on {@code path} with {@code parameters} (a
     * write's top-level body keys, a read's query parameters) is allowed: the capability, then, for
     * the operations Vault checks them on (create, read, update, patch), the parameter constraints.
     */
    public boolean allows(String path, String capability, Map<String, Object> parameters) {
      if (root) {
        return true;
      }
      Rule effective = permissions(path);
      if (!effective.capabilities().contains(capability)) {
        return false;
      }
      return !Set.of("create", "read", "update", "patch").contains(capability)
          || parametersAllowed(effective.parameters(), parameters);
    }

    /** The union of the most specific matching pattern's blocks (empty when denied). */
    private Rule permissions(String path) {
      String best = null;
      for (Rule rule : rules) {
        if (matches(rule.pattern(), path) && (best == null || higher(rule.pattern(), best))) {
          best = rule.pattern();
        }
      }
      Set<String> caps = new LinkedHashSet<>();
      Parameters parameters = Parameters.NONE;
      for (Rule rule : rules) {
        if (rule.pattern().equals(best)) {
          caps.addAll(rule.capabilities());
          parameters = parameters.merge(rule.parameters());
        }
      }
      return caps.contains("deny")
          ? new Rule(path, Set.of(), Parameters.NONE)
          : new Rule(path, caps, parameters);
    }

    /** Vault's {@code AllowOperation} parameter checks, in its order. */
    private static boolean parametersAllowed(Parameters constraints, Map<String, Object> data) {
      for (String name : constraints.required()) {
        if (!data.containsKey(name)) {
          return false;
        }
      }
      if (data.isEmpty()) {
        return true;
      }
      if (!constraints.denied().isEmpty()) {
        if (constraints.denied().containsKey("*")) {
          return false;
        }
        for (Map.Entry<String, Object> parameter : data.entrySet()) {
          List<Object> values =
              constraints.denied().get(parameter.getKey().toLowerCase(Locale.ROOT));
          if (values != null && anyValueListed(parameter.getValue(), values)) {
            return false;
          }
        }
      }
      if (constraints.allowed().isEmpty()) {
        return true;
      }
      boolean anyName = constraints.allowed().containsKey("*");
      if (anyName && constraints.allowed().size() == 1) {
        return true;
      }
      for (Map.Entry<String, Object> parameter : data.entrySet()) {
        List<Object> values =
            constraints.allowed().get(parameter.getKey().toLowerCase(Locale.ROOT));
        if (values == null && !anyName) {
          return false;
        }
        if (values != null && !everyValueListed(parameter.getValue(), values)) {
          return false;
        }
      }
      return true;
    }

    /** Allowed: every element of a list (or of a comma-separated string) must be listed. */
    private static boolean everyValueListed(Object value, List<Object> listed) {
      if (listed.isEmpty() || listed(value, listed)) {
        return true;
      }
      List<?> elements = elements(value);
      return elements != null && elements.stream().allMatch(e -> listed(e, listed));
    }

    /** Denied: one listed element is enough. */
    private static boolean anyValueListed(Object value, List<Object> listed) {
      if (listed.isEmpty() || listed(value, listed)) {
        return true;
      }
      List<?> elements = elements(value);
      return elements != null && elements.stream().anyMatch(e -> listed(e, listed));
    }

    private static List<?> elements(Object value) {
      if (value instanceof List<?> list) {
        return list;
      }
      if (value instanceof String s && s.contains(",")) {
        return List.of(s.split(",", -1)).stream().map(String::trim).toList();
      }
      return null;
    }

    private static boolean listed(Object value, List<Object> listed) {
      for (Object candidate : listed) {
        if (candidate instanceof String glob && value instanceof String s) {
          if (globMatch(glob, s)) {
            return true;
          }
        } else if (candidate instanceof java.math.BigDecimal n && value instanceof Number v) {
          if (n.compareTo(new java.math.BigDecimal(v.toString())) == 0) {
            return true;
          }
        } else if (java.util.Objects.equals(candidate, value)) {
          return true;
        }
      }
      return false;
    }

    /** Vault's {@code GlobbedStringsMatch}: a leading and/or trailing {@code *}. */
    private static boolean globMatch(String glob, String value) {
      if (glob.length() < 2) {
        return value.equals(glob);
      }
      boolean prefix = glob.startsWith("*");
      boolean suffix = glob.endsWith("*");
      String core = glob.substring(prefix ? 1 : 0, glob.length() - (suffix ? 1 : 0));
      if (prefix && suffix) {
        return value.contains(core);
      }
      if (prefix) {
        return value.endsWith(core);
      }
      if (suffix) {
        return value.startsWith(core);
      }
      return value.equals(glob);
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

package io.refundbroker.campaign;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Strings matching the simple regular expressions of {@code openapi.yaml} ({@code ^…$} anchored
 * sequences of literals, character classes with ranges and {@code \xNN} escapes, groups with
 * alternatives, and the quantifiers {@code ? * + {n} {m,n}}), drawn from a seeded {@link Random}.
 * {@link #longest} draws every quantifier at its maximum (the boundary case).
 */
final class PatternStrings {
  private static final int OPEN_REPEAT = 12;

  private PatternStrings() {}

  /** A random string matching {@code pattern}. */
  static String sample(String pattern, Random random) {
    return generate(pattern, random, false);
  }

  /** A string matching {@code pattern} with every quantifier at its maximum. */
  static String longest(String pattern, Random random) {
    return generate(pattern, random, true);
  }

  private static String generate(String pattern, Random random, boolean longest) {
    String body = pattern;
    if (body.startsWith("^")) {
      body = body.substring(1);
    }
    if (body.endsWith("$")) {
      body = body.substring(0, body.length() - 1);
    }
    Parser parser = new Parser(body);
    List<Node> alternatives = parser.alternatives();
    StringBuilder out = new StringBuilder();
    alternatives.get(random.nextInt(alternatives.size())).emit(out, random, longest);
    return out.toString();
  }

  private interface Node {
    void emit(StringBuilder out, Random random, boolean longest);
  }

  private record Literal(char c) implements Node {
    @Override
    public void emit(StringBuilder out, Random random, boolean longest) {
      out.append(c);
    }
  }

  private record CharClass(List<char[]> ranges) implements Node {
    @Override
    public void emit(StringBuilder out, Random random, boolean longest) {
      char[] range = ranges.get(random.nextInt(ranges.size()));
      out.append((char) (range[0] + random.nextInt(range[1] - range[0] + 1)));
    }
  }

  private record Sequence(List<Node> nodes) implements Node {
    @Override
    public void emit(StringBuilder out, Random random, boolean longest) {
      nodes.forEach(node -> node.emit(out, random, longest));
    }
  }

  private record Group(List<Node> alternatives) implements Node {
    @Override
    public void emit(StringBuilder out, Random random, boolean longest) {
      alternatives.get(random.nextInt(alternatives.size())).emit(out, random, longest);
    }
  }

  private record Repeat(Node node, int min, int max) implements Node {
    @Override
    public void emit(StringBuilder out, Random random, boolean longest) {
      int times = longest ? max : min + random.nextInt(max - min + 1);
      for (int i = 0; i < times; i++) {
        node.emit(out, random, longest);
      }
    }
  }

  private static final class Parser {
    private final String text;
    private int at;

    Parser(String text) {
      this.text = text;
    }

    List<Node> alternatives() {
      List<Node> alternatives = new ArrayList<>();
      alternatives.add(sequence());
      while (at < text.length() && text.charAt(at) == '|') {
        at++;
        alternatives.add(sequence());
      }
      return alternatives;
    }

    private Node sequence() {
      List<Node> nodes = new ArrayList<>();
      while (at < text.length() && text.charAt(at) != '|' && text.charAt(at) != ')') {
        nodes.add(quantified(atom()));
      }
      return new Sequence(nodes);
    }

    private Node atom() {
      char c = text.charAt(at++);
      switch (c) {
        case '(' -> {
          List<Node> alternatives = alternatives();
          expect(')');
          return new Group(alternatives);
        }
        case '[' -> {
          return charClass();
        }
        case '\\' -> {
          return new Literal(escaped());
        }
        case '.' -> {
          List<char[]> printable = new ArrayList<>();
          printable.add(new char[] {'!', '~'});
          return new CharClass(printable);
        }
        default -> {
          return new Literal(c);
        }
      }
    }

    private Node charClass() {
      List<char[]> ranges = new ArrayList<>();
      if (text.charAt(at) == '^') {
        throw new IllegalArgumentException("negated classes are not supported: " + text);
      }
      while (text.charAt(at) != ']') {
        char from = classChar();
        char to = from;
        if (text.charAt(at) == '-' && text.charAt(at + 1) != ']') {
          at++;
          to = classChar();
        }
        ranges.add(new char[] {from, to});
      }
      at++;
      return new CharClass(ranges);
    }

    private char classChar() {
      char c = text.charAt(at++);
      return c == '\\' ? escaped() : c;
    }

    private char escaped() {
      char c = text.charAt(at++);
      if (c == 'x') {
        char value = (char) Integer.parseInt(text.substring(at, at + 2), 16);
        at += 2;
        return value;
      }
      if (c == 'd') {
        throw new IllegalArgumentException("use [0-9], not \\d: " + text);
      }
      return c;
    }

    private Node quantified(Node node) {
      if (at >= text.length()) {
        return node;
      }
      char c = text.charAt(at);
      switch (c) {
        case '?' -> {
          at++;
          return new Repeat(node, 0, 1);
        }
        case '*' -> {
          at++;
          return new Repeat(node, 0, OPEN_REPEAT);
        }
        case '+' -> {
          at++;
          return new Repeat(node, 1, OPEN_REPEAT);
        }
        case '{' -> {
          int close = text.indexOf('}', at);
          String[] bounds = text.substring(at + 1, close).split(",", -1);
          at = close + 1;
          int min = Integer.parseInt(bounds[0]);
          int max = bounds.length == 1 ? min : Integer.parseInt(bounds[1]);
          return new Repeat(node, min, max);
        }
        default -> {
          return node;
        }
      }
    }

    private void expect(char c) {
      if (at >= text.length() || text.charAt(at) != c) {
        throw new IllegalArgumentException("expected '" + c + "' at " + at + " in " + text);
      }
      at++;
    }
  }
}

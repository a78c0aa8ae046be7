package io.refundbroker.text;

/**
 * What counts as unsafe text, in one place: the input rules refuse it (request hygiene, JSON
 * strings) and the log encoder escapes it.
 *
 * <p>Control characters are C0 ({@code U+0000}–{@code U+001F}, TAB, CR and LF included), DEL and C1
 * ({@code U+0080}–{@code U+009F}, which some terminals read as escape sequences). An unpaired
 * UTF-16 surrogate is not text at all: it cannot be encoded as UTF-8 (PostgreSQL would store it as
 * {@code ?}). Bidirectional overrides are legal text but make a log line read differently from what
 * it says, so logs escape them too.
 */
public final class Text {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Text() {}

  /** A C0 control, DEL or a C1 control. */
  public static boolean isControl(char c) {
    return c < 0x20 || (c >= 0x7F && c <= 0x9F);
  }

  /**
   * The index of the first control character in {@code text} (TAB allowed when {@code allowTab}, as
   * HTTP header values may contain it), or -1.
   */
  public static int firstControl(String text, boolean allowTab) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (isControl(c) && !(allowTab && c == '\t')) {
        return i;
      }
    }
    return -1;
  }

  /** The index of the first surrogate without its partner in {@code text}, or -1. */
  public static int firstUnpairedSurrogate(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
        } else {
          return i;
        }
      } else if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * {@code text} with every control character, unpaired surrogate and bidirectional formatting
   * character written as {@code \}{@code uXXXX}; the same string when there is none.
   */
  public static String escape(String text) {
    if (text == null) {
      return null;
    }
    int first = firstUnsafe(text, 0);
    if (first < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 16);
    out.append(text, 0, first);
    for (int i = first; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        out.append(c).append(text.charAt(++i));
      } else if (unsafe(c)) {
        out.append('\\').append('u');
        out.append(HEX[(c >> 12) & 0xF]).append(HEX[(c >> 8) & 0xF]);
        out.append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** {@code text} escaped and cut to {@code max} characters, for naming input in a message. */
  public static String quote(String text, int max) {
    String escaped = escape(text);
    return escaped.length() <= max ? escaped : escaped.substring(0, max) + "…";
  }

  /** {@code U+XXXX} for a character (used to name the offending character in a problem). */
  public static String codePoint(char c) {
    return String.format("U+%04X", (int) c);
  }

  private static int firstUnsafe(String text, int from) {
    for (int i = from; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (unsafe(c)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean unsafe(char c) {
    return isControl(c) || Character.isSurrogate(c) || isBidiControl(c);
  }

  private static boolean isBidiControl(char c) {
    return c == '\u061C'
        || c == '\u200E'
        || c == '\u200F'
        || (c >= '\u202A' && c <= '\u202E')
        || (c >= '\u2066' && c <= '\u2069');
  }
}

package io.refundbroker.config;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A conservative estimate of how many bits of randomness a chosen token holds, for {@code
 * BROKER_ADMIN_TOKEN}. It cannot know how a string was made, so it scores what a guesser would
 * exploit and never more than the string could carry:
 *
 * <ul>
 *   <li>per character, the smaller of the character classes' alphabet (log2 of 26 + 26 + 10 + 33
 *       for the classes present) and the string's own Shannon entropy (a string of few distinct
 *       characters is cheap to guess whatever its length);
 *   <li>characters a guesser predicts count nothing: a repeat or a neighbour (±1) of the previous
 *       character ({@code aaaa}, {@code abcd}, {@code 4321}), and the end of a three-character run
 *       seen earlier in the string ({@code Passw0rdPassw0rd}).
 * </ul>
 *
 * Random tokens from {@code openssl rand -hex 32}, {@code openssl rand -base64 32} or the broker's
 * own generator score far above 128 bits; a 32-character hex string (exactly 128 random bits)
 * scores below and is refused, which errs on the safe side.
 */
public final class TokenStrength {
  /** The least a chosen admin token must score. */
  public static final double MIN_BITS = 128;

  /** The fewest characters a chosen admin token may have. */
  public static final int MIN_LENGTH = 32;

  private static final int LOWER = 26;
  private static final int UPPER = 26;
  private static final int DIGITS = 10;
  private static final int SYMBOLS = 33;

  private TokenStrength() {}

  /** The estimated bits of randomness in {@code token} (0 for an empty one). */
  public static double estimatedBits(String token) {
    int length = token.length();
    if (length == 0) {
      return 0;
    }
    double perCharacter = Math.min(log2(alphabet(token)), shannon(token));
    return unpredictable(token) * perCharacter;
  }

  /**
   * Why {@code token} may not be used as an admin token, or null when it may. The reason never
   * quotes the token.
   */
  public static String weakness(String token) {
    if (token.length() < MIN_LENGTH) {
      return "must be at least "
          + MIN_LENGTH
          + " characters (e.g. openssl rand -hex 32); it has "
          + token.length();
    }
    double bits = estimatedBits(token);
    if (bits < MIN_BITS) {
      return "is too predictable: about "
          + Math.round(bits)
          + " bits of randomness estimated, "
          + Math.round(MIN_BITS)
          + " needed (repeats, runs and few distinct characters count little); generate one with"
          + " openssl rand -hex 32";
    }
    return null;
  }

  private static int alphabet(String token) {
    boolean lower = false;
    boolean upper = false;
    boolean digit = false;
    boolean other = false;
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c >= 'a' && c <= 'z') {
        lower = true;
      } else if (c >= 'A' && c <= 'Z') {
        upper = true;
      } else if (c >= '0' && c <= '9') {
        digit = true;
      } else {
        other = true;
      }
    }
    return (lower ? LOWER : 0) + (upper ? UPPER : 0) + (digit ? DIGITS : 0) + (other ? SYMBOLS : 0);
  }

  /** Shannon entropy of the character frequencies, in bits per character. */
  private static double shannon(String token) {
    Map<Character, Integer> counts = new HashMap<>();
    for (int i = 0; i < token.length(); i++) {
      counts.merge(token.charAt(i), 1, Integer::sum);
    }
    double bits = 0;
    for (int count : counts.values()) {
      double p = (double) count / token.length();
      bits -= p * log2(p);
    }
    return bits;
  }

  /** Characters that are neither a repeat/neighbour of the previous one nor end a seen trigram. */
  private static int unpredictable(String token) {
    Set<String> trigrams = new HashSet<>();
    int count = 0;
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      boolean predictable = false;
      if (i > 0 && Math.abs(c - token.charAt(i - 1)) <= 1) {
        predictable = true;
      }
      if (i >= 2 && !trigrams.add(token.substring(i - 2, i + 1))) {
        predictable = true;
      }
      if (!predictable) {
        count++;
      }
    }
    return count;
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}

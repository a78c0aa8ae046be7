package io.refundbroker.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Bearer tokens: 256 random bits, base64url, prefixed {@code rb_} so secret scanners can spot a
 * leaked one. Only their SHA-256 is stored; a token of that entropy needs no slow hash.
 */
public final class Tokens {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] ALPHANUMERIC =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private Tokens() {}

  /** A new token with 256 bits of randomness. */
  public static String newToken() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return "rb_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** A new client id such as {@code cl_9fQ2…} (not a secret). */
  public static String newClientId() {
    StringBuilder id = new StringBuilder("cl_");
    for (int i = 0; i < 20; i++) {
      id.append(ALPHANUMERIC[RANDOM.nextInt(ALPHANUMERIC.length)]);
    }
    return id.toString();
  }

  /** SHA-256 of the token's UTF-8 bytes. */
  public static byte[] hash(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  /** Cheap shape check before touching the database: printable ASCII, 32-512 characters. */
  public static boolean plausible(String token) {
    if (token.length() < 32 || token.length() > 512) {
      return false;
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }
}

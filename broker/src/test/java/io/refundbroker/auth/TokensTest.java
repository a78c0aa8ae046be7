package io.refundbroker.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Bearer tokens and client ids: their shape, their entropy, their hash, the cheap shape check. */
class TokensTest {

  @Test
  void aTokenIsRbAnd256RandomBitsInBase64Url() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      String token = Tokens.newToken();
      assertThat(token).startsWith("rb_").hasSize(3 + 43).matches("rb_[A-Za-z0-9_-]{43}");
      assertThat(Base64.getUrlDecoder().decode(token.substring(3))).hasSize(32);
      assertThat(Tokens.plausible(token)).as(token).isTrue();
      assertThat(seen.add(token)).as("no token twice").isTrue();
    }
  }

  @Test
  void aClientIdIsClAndTwentyAlphanumerics() {
    Set<String> seen = new HashSet<>();
    Set<Character> characters = new HashSet<>();
    for (int i = 0; i < 500; i++) {
      String id = Tokens.newClientId();
      assertThat(id).matches("cl_[A-Za-z0-9]{20}");
      assertThat(seen.add(id)).isTrue();
      id.substring(3).chars().forEach(c -> characters.add((char) c));
    }
    // 10,000 draws from 62 characters: every one appears, including the first and the last
    assertThat(characters).hasSize(62).contains('A', '9');
  }

  @Test
  void theStoredHashIsSha256OfTheUtf8Token() {
    assertThat(HexFormat.of().formatHex(Tokens.hash("abc")))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(Tokens.hash("rb_ø"))
        .isEqualTo(
            Tokens.hash(
                new String("rb_ø".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)));
    assertThat(Tokens.hash("rb_a")).isNotEqualTo(Tokens.hash("rb_b"));
  }

  @Test
  void aPlausibleTokenHas32To512PrintableAsciiCharacters() {
    assertThat(Tokens.plausible("a".repeat(31))).isFalse();
    assertThat(Tokens.plausible("a".repeat(32))).isTrue();
    assertThat(Tokens.plausible("a".repeat(512))).isTrue();
    assertThat(Tokens.plausible("a".repeat(513))).isFalse();
    assertThat(Tokens.plausible("")).isFalse();
  }

  @Test
  void aTokenWithASpaceControlOrNonAsciiCharacterAnywhereIsNotPlausible() {
    String body = "a".repeat(40);
    assertThat(Tokens.plausible("!" + body + "~")).as("0x21 and 0x7e are printable").isTrue();
    for (char bad : new char[] {' ', '\u001f', '\u007f', '\u0000', 'ø', '\u202e'}) {
      assertThat(Tokens.plausible(bad + body)).as("first: U+%04x", (int) bad).isFalse();
      assertThat(Tokens.plausible(body + bad)).as("last: U+%04x", (int) bad).isFalse();
      assertThat(Tokens.plausible(body.substring(0, 20) + bad + body.substring(20)))
          .as("middle: U+%04x", (int) bad)
          .isFalse();
    }
  }
}

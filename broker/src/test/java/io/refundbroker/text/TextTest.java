package io.refundbroker.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TextTest {

  @Test
  void controlsAreC0DelAndC1() {
    for (char c = 0; c < 0x20; c++) {
      assertThat(Text.isControl(c)).as("U+%04X", (int) c).isTrue();
    }
    assertThat(Text.isControl('\u007F')).isTrue();
    assertThat(Text.isControl('\u0085')).isTrue();
    assertThat(Text.isControl('\u009B')).isTrue();
    assertThat(Text.isControl(' ')).isFalse();
    assertThat(Text.isControl('\u00A0')).isFalse();
    assertThat(Text.isControl('ø')).isFalse();
  }

  @Test
  void firstControlMayAllowTabs() {
    assertThat(Text.firstControl("a\tb", true)).isEqualTo(-1);
    assertThat(Text.firstControl("a\tb", false)).isEqualTo(1);
    assertThat(Text.firstControl("ab\u0000", true)).isEqualTo(2);
    assertThat(Text.firstControl("Blåbær", false)).isEqualTo(-1);
  }

  @Test
  void unpairedSurrogatesAreFoundAndPairsAreText() {
    assertThat(Text.firstUnpairedSurrogate("a\uD83D\uDED2b")).isEqualTo(-1);
    assertThat(Text.firstUnpairedSurrogate("a\uD83Db")).isEqualTo(1);
    assertThat(Text.firstUnpairedSurrogate("ab\uDED2")).isEqualTo(2);
    assertThat(Text.firstUnpairedSurrogate("ab\uD83D")).isEqualTo(2);
  }

  @Test
  void escapeWritesUnsafeCharactersAsUnicodeEscapes() {
    assertThat(Text.escape("/v1/a\u001b[31mb\r\nFAKE"))
        .isEqualTo("/v1/a\\u001b[31mb\\u000d\\u000aFAKE");
    assertThat(Text.escape("\u009b2J\u202Eevil")).isEqualTo("\\u009b2J\\u202eevil");
    assertThat(Text.escape("x\uD800y")).isEqualTo("x\\ud800y");
    String clean = "Blåbær \uD83D\uDED2 and a \\ backslash";
    assertThat(Text.escape(clean)).isSameAs(clean);
    assertThat(Text.escape(null)).isNull();
  }

  @Test
  void quoteEscapesAndCuts() {
    assertThat(Text.quote("abc\u0000def", 8)).isEqualTo("abc\\u000…");
    assertThat(Text.codePoint('\u0000')).isEqualTo("U+0000");
  }
}

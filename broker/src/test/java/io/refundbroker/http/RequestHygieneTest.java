package io.refundbroker.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.error.ProblemException;
import org.junit.jupiter.api.Test;

class RequestHygieneTest {

  @Test
  void wellFormedEscapesDecode() {
    assertThat(RequestHygiene.decode("Bl%C3%A5b%C3%A6r", false)).isEqualTo("Blåbær");
    assertThat(RequestHygiene.decode("a+b%20c", true)).isEqualTo("a b c");
    assertThat(RequestHygiene.decode("a+b", false)).isEqualTo("a+b");
    assertThat(RequestHygiene.decode("", true)).isEmpty();
  }

  @Test
  void brokenEscapesAndControlsAreMalformed() {
    for (String raw : new String[] {"%", "%%%", "a%", "a%2", "%zz", "%g0", "%C3%28", "%ED%A0%80"}) {
      assertThat(RequestHygiene.decode(raw, true)).as(raw).isNull();
    }
    for (String raw :
        new String[] {"a%00", "a%0A", "a%1B", "a%7F", "%C2%9B", "a\u001bb", "a b", "ø"}) {
      assertThat(RequestHygiene.decode(raw, true)).as(raw).isNull();
    }
  }

  @Test
  void theUriProblemNamesThePartAndTheParameter() {
    assertThat(RequestHygiene.uriProblem("/v1/orders/a-1?originStoreId=oslo-1")).isNull();
    assertThat(RequestHygiene.uriProblem("/v1/audit/refunds?")).isNull();
    assertThat(RequestHygiene.uriProblem("/v1/orders/%zz").code()).isEqualTo("MALFORMED_PATH");
    ProblemException query = RequestHygiene.uriProblem("/v1/audit/refunds?limit=5&cursor=%%%");
    assertThat(query.code()).isEqualTo("MALFORMED_QUERY");
    assertThat(query.detail()).contains("'cursor'").doesNotContain("%%%");
    assertThat(RequestHygiene.uriProblem("/x?%zz=1").detail()).contains("a parameter name");
  }
}

package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CsvTest {

  @Test
  void plainCellsAreWrittenAsTheyAreWithCrlf() {
    assertThat(Csv.line(List.of("a", "b c", "123.45"))).isEqualTo("a,b c,123.45\r\n");
  }

  @Test
  void commasQuotesAndLineBreaksAreQuotedAndRoundTrip() {
    List<String> cells = List.of("a,b", "say \"hi\"", "two\nlines", "cr\r\nlf", "");
    String line = Csv.line(cells);
    assertThat(line).isEqualTo("\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\nlf\",\r\n");
    assertThat(CsvParser.parse(line)).containsExactly(cells);
  }

  @Test
  void aCommaQuoteOrLineBreakInTheFirstPlaceIsQuotedToo() {
    List<String> cells = List.of(",a", "\"a", "\na", "\r");
    String line = Csv.line(cells);
    // "\r" first is a formula guard's case: it is prefixed, then quoted for the line break
    assertThat(line).isEqualTo("\",a\",\"\"\"a\",\"\na\",\"'\r\"\r\n");
    assertThat(CsvParser.parse(line)).containsExactly(List.of(",a", "\"a", "\na", "'\r"));
  }

  @Test
  void formulaLookingCellsArePrefixedWithAQuote() {
    List<String> cells = Arrays.asList("=1+1", "+47", "-2", "@SUM(A1)", "\tx", "a=b", null);
    assertThat(CsvParser.parse(Csv.line(cells)))
        .containsExactly(List.of("'=1+1", "'+47", "'-2", "'@SUM(A1)", "'\tx", "a=b", ""));
    assertThat(CsvParser.parse(Csv.line(List.of("=HYPERLINK(\"x\",\"y\")"))))
        .containsExactly(List.of("'=HYPERLINK(\"x\",\"y\")"));
  }

  @Test
  void amountsAreFormattedInTheCurrencysPrecision() {
    assertThat(RefundLogEntry.formatAmount(12345, "NOK")).isEqualTo("123.45");
    assertThat(RefundLogEntry.formatAmount(5, "EUR")).isEqualTo("0.05");
    assertThat(RefundLogEntry.formatAmount(100, "DKK")).isEqualTo("1.00");
    assertThat(RefundLogEntry.formatAmount(6_500_000_000L, "NOK")).isEqualTo("65000000.00");
  }
}

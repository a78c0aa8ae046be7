package io.refundbroker.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.joran.spi.JoranException;
import io.vertx.core.json.JsonObject;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.event.KeyValuePair;

/**
 * The broker's own logging configuration ({@code logback.xml}, as shipped) writes caller-supplied
 * text with its control characters escaped, in both formats: an access-log line for a path with a
 * terminal escape sequence and a forged second line comes out as one harmless line.
 */
class LogEscapingTest {
  private static final String HOSTILE_PATH =
      "/v1/orders/a\u001b[2J\u001b]0;pwned\u0007\r\nFAKE ERROR\u009b31m";

  private static byte[] encode(String format) throws JoranException {
    LoggerContext context = new LoggerContext();
    context.putProperty("BROKER_LOG_FORMAT", format);
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    URL config = LogEscapingTest.class.getResource("/logback.xml");
    configurator.doConfigure(config);
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Iterator<Appender<ch.qos.logback.classic.spi.ILoggingEvent>> appenders =
        root.iteratorForAppenders();
    OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        (OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent>) appenders.next();
    assertThat(appender.getName()).isEqualTo(format);

    Logger access = context.getLogger("io.refundbroker.access");
    LoggingEvent event =
        new LoggingEvent(
            Logger.class.getName(),
            access,
            Level.INFO,
            "http " + HOSTILE_PATH,
            new IllegalArgumentException("bad escape in " + HOSTILE_PATH),
            null);
    event.setKeyValuePairs(
        List.of(new KeyValuePair("path", HOSTILE_PATH), new KeyValuePair("status", 400)));
    byte[] bytes = appender.getEncoder().encode(event);
    context.stop();
    return bytes;
  }

  private static void assertNoRawControls(String text, String format) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean structural = c == '\n' || (c == '\t' && format.equals("text"));
      if (!structural) {
        assertThat(c < 0x20 || (c >= 0x7F && c <= 0x9F))
            .as("U+%04X at %d of %s", (int) c, i, text)
            .isFalse();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"text", "json"})
  void controlCharactersInEveryFieldAreEscaped(String format) throws JoranException {
    String out = new String(encode(format), StandardCharsets.UTF_8);
    assertNoRawControls(out, format);
    assertThat(out).doesNotContain("\nFAKE ERROR");
    if (format.equals("text")) {
      String firstLine = out.lines().findFirst().orElseThrow();
      assertThat(firstLine)
          .contains(
              "path=/v1/orders/a\\u001b[2J\\u001b]0;pwned\\u0007\\u000d\\u000aFAKE ERROR\\u009b31m")
          .contains("status=400");
      assertThat(out)
          .contains("java.lang.IllegalArgumentException: bad escape in /v1/orders/a\\u001b");
    } else {
      JsonObject line = new JsonObject(out.trim());
      assertThat(line.getString("formattedMessage")).startsWith("http /v1/orders/a\\u001b[2J");
      assertThat(line.encode()).contains("\\\\u009b31m").contains("\"status\"");
    }
  }
}

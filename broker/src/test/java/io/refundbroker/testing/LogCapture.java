package io.refundbroker.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Captures every log event (at TRACE, for every logger while active) as the full text an appender
 * could write: message, key-values, and stack traces. Canary tests search it for secrets.
 */
public final class LogCapture implements AutoCloseable {
  private final Logger root;
  private final Level previousLevel;
  private final Appender appender = new Appender();
  private final List<Object[]> overridden = new ArrayList<>();

  private LogCapture(Logger root) {
    this.root = root;
    this.previousLevel = root.getLevel();
  }

  /** Starts capturing with the root logger (and every child without its own level) at TRACE. */
  public static LogCapture atTrace() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    LogCapture capture = new LogCapture(root);
    capture.appender.setContext(context);
    capture.appender.start();
    root.addAppender(capture.appender);
    root.setLevel(Level.TRACE);
    for (Logger logger : context.getLoggerList()) {
      if (logger != root && logger.getLevel() != null) {
        capture.overridden.add(new Object[] {logger, logger.getLevel()});
        logger.setLevel(Level.TRACE);
      }
    }
    return capture;
  }

  /** Everything captured so far, one event per line. */
  public String text() {
    return String.join("\n", appender.lines);
  }

  public int events() {
    return appender.lines.size();
  }

  @Override
  public void close() {
    root.detachAppender(appender);
    root.setLevel(previousLevel);
    for (Object[] entry : overridden) {
      ((Logger) entry[0]).setLevel((Level) entry[1]);
    }
    appender.stop();
  }

  private static final class Appender extends AppenderBase<ILoggingEvent> {
    private final List<String> lines = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
      StringBuilder line =
          new StringBuilder(event.getLevel().toString())
              .append(' ')
              .append(event.getLoggerName())
              .append(' ')
              .append(event.getFormattedMessage());
      if (event.getKeyValuePairs() != null) {
        event
            .getKeyValuePairs()
            .forEach(kv -> line.append(' ').append(kv.key).append('=').append(kv.value));
      }
      if (event.getArgumentArray() != null) {
        for (Object arg : event.getArgumentArray()) {
          line.append(' ').append(arg);
        }
      }
      appendThrowable(line, event.getThrowableProxy());
      lines.add(line.toString());
    }

    private static void appendThrowable(StringBuilder line, IThrowableProxy proxy) {
      while (proxy != null) {
        line.append(" | ").append(proxy.getClassName()).append(": ").append(proxy.getMessage());
        for (var frame : proxy.getStackTraceElementProxyArray()) {
          line.append("\n\t").append(frame.getSTEAsString());
        }
        proxy = proxy.getCause();
      }
    }
  }
}

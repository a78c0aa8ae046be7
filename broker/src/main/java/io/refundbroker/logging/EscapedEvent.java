package io.refundbroker.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.LoggerContextVO;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import io.refundbroker.text.Text;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;

/** A logging event as {@link EscapingEncoder} hands it on: every text field escaped. */
final class EscapedEvent implements ILoggingEvent {
  private final ILoggingEvent event;

  EscapedEvent(ILoggingEvent event) {
    this.event = event;
  }

  @Override
  public String getThreadName() {
    return Text.escape(event.getThreadName());
  }

  @Override
  public Level getLevel() {
    return event.getLevel();
  }

  @Override
  public String getMessage() {
    return Text.escape(event.getMessage());
  }

  @Override
  public Object[] getArgumentArray() {
    Object[] arguments = event.getArgumentArray();
    if (arguments == null) {
      return null;
    }
    Object[] escaped = new Object[arguments.length];
    for (int i = 0; i < arguments.length; i++) {
      escaped[i] = escapeValue(arguments[i]);
    }
    return escaped;
  }

  @Override
  public String getFormattedMessage() {
    return Text.escape(event.getFormattedMessage());
  }

  @Override
  public String getLoggerName() {
    return Text.escape(event.getLoggerName());
  }

  @Override
  public LoggerContextVO getLoggerContextVO() {
    return event.getLoggerContextVO();
  }

  @Override
  public IThrowableProxy getThrowableProxy() {
    IThrowableProxy proxy = event.getThrowableProxy();
    return proxy == null ? null : new EscapedThrowable(proxy);
  }

  @Override
  public StackTraceElement[] getCallerData() {
    return event.getCallerData();
  }

  @Override
  public boolean hasCallerData() {
    return event.hasCallerData();
  }

  @Override
  public List<Marker> getMarkerList() {
    return event.getMarkerList();
  }

  @Override
  public Map<String, String> getMDCPropertyMap() {
    return event.getMDCPropertyMap();
  }

  @Override
  @SuppressWarnings("deprecation")
  public Map<String, String> getMdc() {
    return event.getMdc();
  }

  @Override
  public long getTimeStamp() {
    return event.getTimeStamp();
  }

  @Override
  public int getNanoseconds() {
    return event.getNanoseconds();
  }

  @Override
  public Instant getInstant() {
    return event.getInstant();
  }

  @Override
  public long getSequenceNumber() {
    return event.getSequenceNumber();
  }

  @Override
  public List<KeyValuePair> getKeyValuePairs() {
    List<KeyValuePair> pairs = event.getKeyValuePairs();
    if (pairs == null) {
      return null;
    }
    List<KeyValuePair> escaped = new ArrayList<>(pairs.size());
    for (KeyValuePair pair : pairs) {
      escaped.add(new KeyValuePair(Text.escape(pair.key), escapeValue(pair.value)));
    }
    return escaped;
  }

  @Override
  public void prepareForDeferredProcessing() {
    event.prepareForDeferredProcessing();
  }

  /**
   * Numbers and booleans stay as they are (the JSON encoder keeps their type); the rest is text.
   */
  private static Object escapeValue(Object value) {
    if (value == null || value instanceof Number || value instanceof Boolean) {
      return value;
    }
    return Text.escape(String.valueOf(value));
  }

  /** An exception as logged: its message (and those of its causes) escaped, frames unchanged. */
  private record EscapedThrowable(IThrowableProxy proxy) implements IThrowableProxy {
    @Override
    public String getMessage() {
      return Text.escape(proxy.getMessage());
    }

    @Override
    public String getClassName() {
      return proxy.getClassName();
    }

    @Override
    public StackTraceElementProxy[] getStackTraceElementProxyArray() {
      return proxy.getStackTraceElementProxyArray();
    }

    @Override
    public int getCommonFrames() {
      return proxy.getCommonFrames();
    }

    @Override
    public IThrowableProxy getCause() {
      IThrowableProxy cause = proxy.getCause();
      return cause == null ? null : new EscapedThrowable(cause);
    }

    @Override
    public IThrowableProxy[] getSuppressed() {
      IThrowableProxy[] suppressed = proxy.getSuppressed();
      if (suppressed == null) {
        return null;
      }
      IThrowableProxy[] escaped = new IThrowableProxy[suppressed.length];
      for (int i = 0; i < suppressed.length; i++) {
        escaped[i] = new EscapedThrowable(suppressed[i]);
      }
      return escaped;
    }

    @Override
    public boolean isCyclic() {
      return proxy.isCyclic();
    }
  }
}

package io.refundbroker.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Wraps the log encoder (text or JSON) so that every field of an event reaches it with control
 * characters, unpaired surrogates and bidirectional overrides escaped as {@code \}{@code uXXXX}
 * (see {@link io.refundbroker.text.Text#escape}): the message, every key-value pair, exception
 * messages, thread and logger names. A request path, header name or order id sent by an anonymous
 * caller can then neither move the terminal's cursor, recolour it, nor start a forged log line.
 *
 * <p>Configured in {@code logback.xml} around the real encoder:
 *
 * <pre>{@code
 * <encoder class="io.refundbroker.logging.EscapingEncoder">
 *   <encoder class="ch.qos.logback.classic.encoder.PatternLayoutEncoder">…</encoder>
 * </encoder>
 * }</pre>
 */
public final class EscapingEncoder extends ContextAwareBase implements Encoder<ILoggingEvent> {
  private Encoder<ILoggingEvent> encoder;
  private boolean started;

  /** The encoder that formats the escaped events. */
  public void setEncoder(Encoder<ILoggingEvent> encoder) {
    this.encoder = encoder;
  }

  @Override
  public byte[] headerBytes() {
    return encoder.headerBytes();
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    return encoder.encode(new EscapedEvent(event));
  }

  @Override
  public byte[] footerBytes() {
    return encoder.footerBytes();
  }

  @Override
  public void start() {
    if (encoder == null) {
      addError("EscapingEncoder needs a nested <encoder>");
      return;
    }
    if (!encoder.isStarted()) {
      encoder.start();
    }
    started = true;
  }

  @Override
  public void stop() {
    if (encoder != null) {
      encoder.stop();
    }
    started = false;
  }

  @Override
  public boolean isStarted() {
    return started;
  }
}

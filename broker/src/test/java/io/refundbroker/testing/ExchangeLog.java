package io.refundbroker.testing;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A child broker's exchanges as a file, one JSON object a line ({@link Exchange#toJson}). The child
 * appends each one when its response has been sent, before it answers anything else on that event
 * loop, so a child killed with SIGKILL leaves every exchange its clients saw (at most a torn last
 * line, which {@link #read} skips).
 */
final class ExchangeLog {
  private static final Object LOCK = new Object();

  private ExchangeLog() {}

  /** Appends to {@code file}; safe from any thread (one lock for the JVM). */
  static Consumer<Exchange> appender(Path file) {
    FileChannel channel;
    try {
      channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return exchange -> {
      ByteBuffer line =
          ByteBuffer.wrap((exchange.toJson().encode() + "\n").getBytes(StandardCharsets.UTF_8));
      synchronized (LOCK) {
        try {
          while (line.hasRemaining()) {
            channel.write(line);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }

  /** The exchanges in {@code file} (none when it does not exist); a torn last line is skipped. */
  static List<Exchange> read(Path file) {
    List<Exchange> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (int i = 0; i < lines.size(); i++) {
      try {
        out.add(Exchange.fromJson(new JsonObject(lines.get(i))));
      } catch (DecodeException e) {
        if (i != lines.size() - 1) {
          throw new IllegalStateException(file + " line " + (i + 1) + " is not an exchange", e);
        }
      }
    }
    return out;
  }
}

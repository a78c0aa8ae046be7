package io.refundbroker.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * HTTP/1.1 over a plain socket, for requests no well-behaved client would send (raw control bytes,
 * broken escapes, a body that never comes) and for watching what the server does before the body is
 * sent. Every read has a timeout.
 */
public final class RawHttp implements AutoCloseable {
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private long bodyBytesSent;

  private RawHttp(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  /** Connects to {@code 127.0.0.1:port}. */
  public static RawHttp connect(int port) {
    try {
      Socket socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
      return new RawHttp(socket);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends one complete request (request line, headers, optional body) and reads the answer. */
  public static HttpResult exchange(int port, String head, byte[] body) {
    try (RawHttp http = connect(port)) {
      http.sendHead(head);
      if (body != null) {
        http.sendBody(body);
      }
      return http.readResponse(READ_TIMEOUT);
    }
  }

  /**
   * Writes the request line and headers as ISO-8859-1 bytes (so a test can put any byte in them),
   * followed by the empty line. {@code head} uses {@code \r\n} between lines and has no final empty
   * line.
   */
  public void sendHead(String head) {
    write((head + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Writes body bytes (counted in {@link #bodyBytesSent()}). */
  public void sendBody(byte[] bytes) {
    write(bytes);
    bodyBytesSent += bytes.length;
  }

  /**
   * Writes {@code total} body bytes in chunks until the server stops taking them (it closed the
   * connection) or all are written. A socket write cannot time out, so a watchdog closes the socket
   * after {@code within}.
   *
   * @return the body bytes the socket accepted
   */
  public long sendBodyUntilRefused(long total, int chunk, Duration within) {
    byte[] block = new byte[chunk];
    java.util.Arrays.fill(block, (byte) 'x');
    java.util.concurrent.atomic.AtomicBoolean timedOut =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.Timer watchdog = new java.util.Timer("raw-http-watchdog", true);
    watchdog.schedule(
        new java.util.TimerTask() {
          @Override
          public void run() {
            timedOut.set(true);
            close();
          }
        },
        within.toMillis());
    try {
      while (bodyBytesSent < total) {
        int n = (int) Math.min(chunk, total - bodyBytesSent);
        out.write(block, 0, n);
        bodyBytesSent += n;
      }
      out.flush();
    } catch (IOException refused) {
      if (timedOut.get()) {
        throw new AssertionError("the server was still taking the body after " + within, refused);
      }
      // The server closed the connection: what was accepted so far is the answer.
    } finally {
      watchdog.cancel();
    }
    return bodyBytesSent;
  }

  public long bodyBytesSent() {
    return bodyBytesSent;
  }

  /**
   * Reads one response: status line, headers and a body of {@code Content-Length} bytes (or up to
   * the end of the stream when there is none). 1xx interim responses are returned as they are.
   *
   * @throws AssertionError when nothing complete arrives within {@code wait}
   */
  public HttpResult readResponse(Duration wait) {
    try {
      socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
      String statusLine = readLine();
      if (statusLine == null) {
        throw new AssertionError("the server closed the connection without an answer");
      }
      String[] parts = statusLine.split(" ", 3);
      int status = Integer.parseInt(parts[1]);
      MultiMap headers = MultiMap.caseInsensitiveMultiMap();
      for (String line = readLine(); line != null && !line.isEmpty(); line = readLine()) {
        int colon = line.indexOf(':');
        headers.add(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
      }
      if (status < 200) {
        return new HttpResult(status, headers, Buffer.buffer());
      }
      String length = headers.get("Content-Length");
      byte[] body;
      if (length != null) {
        body = in.readNBytes(Integer.parseInt(length));
      } else if ("chunked".equalsIgnoreCase(headers.get("Transfer-Encoding"))) {
        body = readChunked();
      } else {
        body = in.readAllBytes();
      }
      return new HttpResult(status, headers, Buffer.buffer(body));
    } catch (SocketTimeoutException e) {
      throw new AssertionError("no complete answer within " + wait, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether the server has closed the connection (reads end of stream within {@code wait}). */
  public boolean closedWithin(Duration wait) {
    try {
      socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
      return in.read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  private byte[] readChunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = readLine();
      int n = Integer.parseInt(size.split(";")[0].trim(), 16);
      if (n == 0) {
        readLine();
        return body.toByteArray();
      }
      body.write(in.readNBytes(n));
      readLine();
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        String text = line.toString(StandardCharsets.ISO_8859_1);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
      }
      line.write(b);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
  }

  private void write(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code name: value} lines joined for {@link #sendHead}. */
  public static String head(String requestLine, String... headerLines) {
    StringBuilder head = new StringBuilder(requestLine).append("\r\nHost: 127.0.0.1");
    for (String line : headerLines) {
      head.append("\r\n").append(line);
    }
    return head.toString();
  }
}

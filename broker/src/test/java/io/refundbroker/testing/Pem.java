package io.refundbroker.testing;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * PEM blocks for tests, read and written through BouncyCastle, so that no test source holds a
 * key-shaped literal: fixtures are generated at run time and assertions look at the parsed block.
 */
public final class Pem {
  private Pem() {}

  /** The first PEM block of {@code text}; fails when there is none. */
  public static PemObject read(String text) {
    try (PemReader reader = new PemReader(new StringReader(text))) {
      PemObject block = reader.readPemObject();
      if (block == null) {
        throw new AssertionError("no PEM block in the text");
      }
      return block;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A PEM block of {@code type} around {@code content}. */
  public static String write(String type, byte[] content) {
    StringWriter text = new StringWriter();
    try (PemWriter writer = new PemWriter(text)) {
      writer.writeObject(new PemObject(type, content));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }
}

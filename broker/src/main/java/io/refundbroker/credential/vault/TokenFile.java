package io.refundbroker.credential.vault;

import io.refundbroker.config.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;

/**
 * {@code VAULT_TOKEN_FILE}: the file a Vault Agent {@code file} sink writes, holding the plain
 * token and nothing else. The agent replaces the file (write and rename) whenever it authenticates
 * again, so the broker reads it at start, when its token stops working, and whenever the file
 * changes ({@link #stamp()}). Blocking: call only on the Vault worker.
 */
final class TokenFile {
  /** Why the file gives no token; the message names the file, never its content. */
  static final class Unusable extends RuntimeException {
    Unusable(String message) {
      super(message, null, false, false);
    }
  }

  /** When and how big the file was, to notice a rewrite without reading it. */
  record Stamp(FileTime modified, long size, Object fileKey) {}

  private final Path path;

  TokenFile(Path path) {
    this.path = path.toAbsolutePath();
  }

  Path path() {
    return path;
  }

  /**
   * The token in the file.
   *
   * @throws Unusable when the file is missing, unreadable, empty, or holds something other than a
   *     plain token (a response-wrapped or encrypted sink writes JSON)
   */
  Secret read() {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8).strip();
    } catch (NoSuchFileException e) {
      throw new Unusable("VAULT_TOKEN_FILE " + path + " does not exist (yet)");
    } catch (IOException e) {
      throw new Unusable(
          "VAULT_TOKEN_FILE " + path + " cannot be read: " + e.getClass().getSimpleName());
    }
    if (text.isEmpty()) {
      throw new Unusable("VAULT_TOKEN_FILE " + path + " is empty");
    }
    if (text.startsWith("{")) {
      throw new Unusable(
          "VAULT_TOKEN_FILE "
              + path
              + " holds JSON, not a token: configure the Vault Agent file sink without wrap_ttl"
              + " and dh_type");
    }
    if (text.length() > 8192 || !text.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
      throw new Unusable("VAULT_TOKEN_FILE " + path + " does not hold a single token");
    }
    return Secret.of(text);
  }

  /** The file's modification time, size and identity; null when it does not exist. */
  Stamp stamp() {
    try {
      BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
      return new Stamp(attributes.lastModifiedTime(), attributes.size(), attributes.fileKey());
    } catch (IOException e) {
      return null;
    }
  }
}

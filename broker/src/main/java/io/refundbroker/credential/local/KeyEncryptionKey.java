package io.refundbroker.credential.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The local backend's key-encryption key: 32 random bytes, base64 in a file that only the broker's
 * user may read ({@code 0600}), created on first start. The KEK never enters the database; its
 * {@link #id()} (a truncated SHA-256 fingerprint) is stored with each version so a wrong key file
 * is recognised instead of producing garbage.
 */
public final class KeyEncryptionKey {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

  private final SecretKey key;
  private final String id;

  private KeyEncryptionKey(byte[] raw) {
    this.key = new SecretKeySpec(raw, "AES");
    this.id = fingerprint(raw);
  }

  /**
   * Loads the KEK from {@code file}, creating it (0600) when it does not exist. Blocking: call it
   * on a worker thread.
   *
   * @throws IllegalStateException when the file is readable by others, or is not a 256-bit key; the
   *     message names {@code LOCAL_KEK_FILE}
   * @throws UncheckedIOException when the file cannot be read or created
   */
  public static KeyEncryptionKey loadOrCreate(Path file) {
    try {
      if (!Files.exists(file)) {
        create(file);
      }
      checkPermissions(file);
      byte[] raw;
      try {
        raw = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException(
            "LOCAL_KEK_FILE " + file + " does not hold a base64 256-bit key");
      }
      if (raw.length != 32) {
        throw new IllegalStateException(
            "LOCAL_KEK_FILE " + file + " does not hold a 256-bit key (" + raw.length + " bytes)");
      }
      return new KeyEncryptionKey(raw);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create LOCAL_KEK_FILE " + file, e);
    }
  }

  SecretKey key() {
    return key;
  }

  /** 16 hex digits of the key's SHA-256: identifies the key without revealing it. */
  public String id() {
    return id;
  }

  private static void create(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    byte[] encoded = Base64.getEncoder().encode(raw);
    boolean posix = Files.getFileAttributeView(dir, PosixFileAttributeView.class) != null;
    // Written to a private temporary file first, so no other process ever sees a partial key.
    Path tmp =
        posix
            ? Files.createTempFile(
                dir, ".kek", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY))
            : Files.createTempFile(dir, ".kek", ".tmp");
    try {
      Files.write(tmp, encoded);
      try {
        Files.move(tmp, file);
      } catch (FileAlreadyExistsException raced) {
        // another broker sharing the data dir created it first; use theirs
      }
    } finally {
      Files.deleteIfExists(tmp);
      java.util.Arrays.fill(raw, (byte) 0);
      java.util.Arrays.fill(encoded, (byte) 0);
    }
  }

  private static void checkPermissions(Path file) throws IOException {
    if (Files.getFileAttributeView(file, PosixFileAttributeView.class) == null) {
      return;
    }
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
    Set<PosixFilePermission> extra = EnumSet.copyOf(permissions);
    extra.removeAll(OWNER_ONLY);
    if (!extra.isEmpty()) {
      throw new IllegalStateException(
          "LOCAL_KEK_FILE "
              + file
              + " is accessible by group or others ("
              + PosixFilePermissions.toString(permissions)
              + "); run chmod 600 on it");
    }
  }

  private static String fingerprint(byte[] raw) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(raw);
      return HexFormat.of().formatHex(hash, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}

package io.refundbroker.db;

import io.refundbroker.config.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A generated password of one role of the embedded cluster, kept in {@code <role>.password} in the
 * cluster's data directory with mode 0600 (owner read/write only). A file that others can read is
 * treated as leaked: {@link #ensure()} replaces it with a new password.
 */
final class PasswordFile {
  private static final Logger LOG = LoggerFactory.getLogger(PasswordFile.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Set<PosixFilePermission> OWNER_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

  private final Path file;

  private PasswordFile(Path file) {
    this.file = file;
  }

  /** The password file of {@code role} in {@code dataDir}. */
  static PasswordFile of(Path dataDir, String role) {
    return new PasswordFile(dataDir.resolve(role + ".password"));
  }

  Path path() {
    return file;
  }

  /** A new random password (256 bits, base64url). */
  static Secret generate() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Secret.of(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
  }

  /**
   * Makes sure the file exists and only its owner can read it, writing a new password when it is
   * missing or was readable by others. Blocking.
   *
   * @return whether a new password was written (the role's password must then be set to it)
   * @throws IOException when the file cannot be read or written
   */
  boolean ensure() throws IOException {
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      if (ownerOnly(file)) {
        return false;
      }
      LOG.atWarn()
          .setMessage("a database password file was readable by others; replacing the password")
          .addKeyValue("file", file)
          .log();
      Files.delete(file);
    }
    write(generate());
    return true;
  }

  /** Writes {@code password}, replacing the file atomically. Blocking. */
  void write(Secret password) throws IOException {
    writeOwnerOnly(file, password.reveal() + "\n");
  }

  /**
   * The password. Blocking.
   *
   * @throws IOException when the file is missing or unreadable
   */
  Secret read() throws IOException {
    return Secret.of(Files.readString(file, StandardCharsets.UTF_8).strip());
  }

  /** Writes {@code content} to {@code target} with mode 0600, via a temporary file and a rename. */
  static void writeOwnerOnly(Path target, String content) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    Path temp =
        posix
            ? Files.createTempFile(
                dir, ".tmp-", "", PosixFilePermissions.asFileAttribute(OWNER_ONLY))
            : Files.createTempFile(dir, ".tmp-", "");
    try {
      Files.writeString(temp, content, StandardCharsets.UTF_8);
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static boolean ownerOnly(Path file) throws IOException {
    if (!file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return true;
    }
    return OWNER_ONLY.containsAll(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
  }
}

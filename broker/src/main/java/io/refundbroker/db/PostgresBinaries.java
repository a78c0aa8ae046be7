package io.refundbroker.db;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.XZInputStream;

/**
 * The PostgreSQL server programs ({@code initdb}, {@code pg_ctl}, {@code postgres}) from the
 * io.zonky binaries jars on the class path, unpacked once per user into {@code
 * <java.io.tmpdir>/refund-broker-pg-<user>/<archive digest>}.
 *
 * <p>The broker runs these programs itself (see {@link EmbeddedDatabase}) rather than through
 * zonky's {@code EmbeddedPostgres}, which always initialises clusters with {@code trust}
 * authentication and starts them with {@code fsync} and {@code synchronous_commit} off.
 *
 * <p>The cache directory must belong to the current user and be writable by nobody else: the broker
 * executes what it finds there. Unpacking goes to a private temporary directory that is renamed
 * into place, so concurrent JVMs never see half an installation. Thread-safe: {@link #installed()}
 * is synchronized.
 */
final class PostgresBinaries {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresBinaries.class);
  private static final Set<PosixFilePermission> PRIVATE_DIR =
      PosixFilePermissions.fromString("rwx------");

  private static PostgresBinaries installed;

  private final Path home;
  private final boolean unshare;

  private PostgresBinaries(Path home, boolean unshare) {
    this.home = home;
    this.unshare = unshare;
  }

  /**
   * The unpacked binaries for this machine. Blocking (the first call of a JVM reads the archive,
   * the first call on a machine also unpacks it).
   *
   * @throws UncheckedIOException when the archive cannot be read or unpacked
   * @throws IllegalStateException when the cache directory is not private to this user
   */
  static synchronized PostgresBinaries installed() {
    if (installed == null) {
      try {
        installed = new PostgresBinaries(unpack(), LinuxUtils.isUnshareAvailable());
      } catch (IOException e) {
        throw new UncheckedIOException("could not unpack the embedded PostgreSQL binaries", e);
      }
    }
    return installed;
  }

  /**
   * The command line that runs {@code program} with {@code args}. PostgreSQL refuses to run as
   * root, so for root it is wrapped in {@code unshare -U} (a user namespace where the process is
   * not root), exactly as zonky does.
   */
  List<String> command(String program, List<String> args) {
    List<String> command = new ArrayList<>();
    if (unshare) {
      command.add("unshare");
      command.add("-U");
    }
    String suffix = operatingSystem().equals("Windows") ? ".exe" : "";
    command.add(home.resolve("bin").resolve(program + suffix).toString());
    command.addAll(args);
    return command;
  }

  private static Path unpack() throws IOException {
    byte[] archive;
    try (InputStream in =
        DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(operatingSystem(), architecture())) {
      archive = in.readAllBytes();
    }
    Path cache =
        Path.of(
            System.getProperty("java.io.tmpdir"),
            "refund-broker-pg-" + System.getProperty("user.name", "user"));
    ensurePrivateDirectory(cache);
    Path home = cache.resolve(digest(archive));
    if (Files.isDirectory(home)) {
      return home;
    }
    Path staging = cache.resolve(".unpacking-" + UUID.randomUUID());
    LOG.atInfo().setMessage("unpacking PostgreSQL binaries").addKeyValue("dir", home).log();
    try {
      extract(archive, staging);
      Files.move(staging, home, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
      if (!Files.isDirectory(home)) {
        throw e;
      }
      // another JVM unpacked the same archive first: use its copy
    } catch (IOException e) {
      if (!Files.isDirectory(home)) {
        throw e;
      }
    } finally {
      deleteRecursively(staging);
    }
    return home;
  }

  private static void ensurePrivateDirectory(Path dir) throws IOException {
    boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      try {
        if (posix) {
          Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
        } else {
          Files.createDirectory(dir);
        }
      } catch (FileAlreadyExistsException raced) {
        // created concurrently; checked below like any existing directory
      }
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalStateException(dir + " is not a directory");
    }
    if (posix) {
      String owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
      Set<PosixFilePermission> permissions =
          Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
      if (!owner.equals(System.getProperty("user.name"))
          || permissions.contains(PosixFilePermission.GROUP_WRITE)
          || permissions.contains(PosixFilePermission.OTHERS_WRITE)) {
        throw new IllegalStateException(
            dir
                + " must belong to "
                + System.getProperty("user.name")
                + " and be writable by nobody else (the broker runs the PostgreSQL programs"
                + " it holds); remove it and start again");
      }
    }
  }

  private static void extract(byte[] archive, Path target) throws IOException {
    Files.createDirectory(target);
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(new XZInputStream(new ByteArrayInputStream(archive)))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        Path file = target.resolve(entry.getName()).normalize();
        if (!file.startsWith(target)) {
          throw new IOException("archive entry outside the target: " + entry.getName());
        }
        if (entry.isDirectory()) {
          Files.createDirectories(file);
        } else if (entry.isSymbolicLink()) {
          Files.createDirectories(file.getParent());
          Files.createSymbolicLink(file, Path.of(entry.getLinkName()));
        } else if (entry.isFile() && !entry.isLink()) {
          Files.createDirectories(file.getParent());
          Files.copy(tar, file);
          boolean executable =
              (entry.getMode() & 0100) != 0 || entry.getName().replace("./", "").startsWith("bin/");
          if (executable && !file.toFile().setExecutable(true, true)) {
            throw new IOException("could not make " + file + " executable");
          }
        } else {
          throw new IOException("unsupported archive entry: " + entry.getName());
        }
      }
    }
  }

  private static String operatingSystem() {
    String name = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    if (name.startsWith("windows")) {
      return "Windows";
    }
    if (name.startsWith("mac") || name.startsWith("darwin")) {
      return "Darwin";
    }
    if (name.contains("linux")) {
      return "Linux";
    }
    throw new IllegalStateException("no embedded PostgreSQL binaries for " + name);
  }

  private static String architecture() {
    String arch = System.getProperty("os.arch");
    return "amd64".equals(arch) ? "x86_64" : arch;
  }

  private static String digest(byte[] archive) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(archive);
      return HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.atWarn().setMessage("could not remove").addKeyValue("dir", dir).log();
    }
  }
}

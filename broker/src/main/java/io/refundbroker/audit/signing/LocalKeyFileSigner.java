package io.refundbroker.audit.signing;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs checkpoints with an Ed25519 key kept in a PEM file outside the database ({@code
 * AUDIT_SIGNING_KEY_FILE}; the {@code local} credentials backend). On first start the key is
 * generated and written with permissions {@code 0600}. File access and signing run on the given
 * bounded worker executor, never on an event loop.
 *
 * <p>Versions: the key id is {@value #KEY_ID} and a key's version is its public key's SHA-256
 * fingerprint. {@link #rotate} (the {@code audit rotate-key} command) appends the current public
 * key to the retired-keys file next to the key file ({@code <key file>.retired.pem}) and then
 * replaces the key file atomically; a running signer notices the new file at its next signature and
 * {@link #publicKeys()} keeps publishing every retired key, so checkpoints signed before the
 * rotation still verify.
 *
 * <p>Thread safety: the loaded key is one immutable value in a volatile field; two workers that
 * notice a new key file at once both load the same file.
 */
public final class LocalKeyFileSigner implements CheckpointSigner {
  /** The key id of checkpoints signed by a key file. */
  public static final String KEY_ID = "local";

  private static final Logger LOG = LoggerFactory.getLogger(LocalKeyFileSigner.class);
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> PUBLIC_READ =
      PosixFilePermissions.fromString("rw-r--r--");

  /** The key as last read from the file, with the text it was read from. */
  private record Loaded(String pem, Ed25519KeyPair key) {}

  private final Path keyFile;
  private final WorkerExecutor worker;
  private volatile Loaded loaded;

  private LocalKeyFileSigner(Path keyFile, Loaded loaded, WorkerExecutor worker) {
    this.keyFile = keyFile;
    this.loaded = loaded;
    this.worker = worker;
  }

  /**
   * Loads the key from {@code keyFile}, creating it (and its directory) on first use.
   *
   * @return the signer; fails with an {@link IllegalStateException} naming the file when it cannot
   *     be read, created or parsed
   */
  public static Future<LocalKeyFileSigner> open(Path keyFile, WorkerExecutor worker) {
    Path file = keyFile.toAbsolutePath();
    return worker.executeBlocking(
        () -> new LocalKeyFileSigner(file, loadOrCreate(file), worker), false);
  }

  /** The file that keeps the public keys of every retired version of {@code keyFile}. */
  public static Path retiredKeysFile(Path keyFile) {
    Path file = keyFile.toAbsolutePath();
    return file.resolveSibling(file.getFileName() + ".retired.pem");
  }

  @Override
  public String keyId() {
    return KEY_ID;
  }

  /** Signs with the key now in the file (re-read when it changed since the last signature). */
  @Override
  public Future<CheckpointSignature> sign(byte[] message) {
    byte[] copy = message.clone();
    return worker.executeBlocking(
        () -> {
          Ed25519KeyPair key = current().key();
          return new CheckpointSignature(key.publicKey().fingerprint(), key.sign(copy));
        },
        false);
  }

  /** The retired keys (oldest first) and then the key now in the file. */
  @Override
  public Future<List<CheckpointKey>> publicKeys() {
    return worker.executeBlocking(
        () -> {
          Ed25519PublicKey now = current().key().publicKey();
          List<CheckpointKey> keys = new ArrayList<>();
          for (Ed25519PublicKey retired : readRetired(retiredKeysFile(keyFile))) {
            if (!retired.equals(now)
                && keys.stream().noneMatch(k -> k.publicKey().equals(retired))) {
              keys.add(new CheckpointKey(KEY_ID, retired.fingerprint(), retired));
            }
          }
          keys.add(new CheckpointKey(KEY_ID, now.fingerprint(), now));
          return keys;
        },
        false);
  }

  /** The public half of the key loaded last (for tests and start-up logs). */
  public Ed25519PublicKey publicKey() {
    return loaded.key().publicKey();
  }

  /**
   * The result of {@link #rotate}: the retired and the new public key, and where the old one is.
   */
  public record Rotation(
      Ed25519PublicKey retired, Ed25519PublicKey current, Path retiredKeysFile) {}

  /**
   * Rotates the key in {@code keyFile} (blocking; the {@code audit rotate-key} command): appends
   * the current public key to {@link #retiredKeysFile} (unless it is there already, so a repeated
   * run after a crash is harmless), then writes a new key to a temporary file ({@code 0600}) and
   * moves it over the key file atomically. The old private key is gone afterwards; its public half
   * stays published.
   *
   * @throws IllegalStateException naming the file when there is no usable key to rotate or a file
   *     cannot be written
   */
  public static Rotation rotate(Path keyFile) {
    Path file = keyFile.toAbsolutePath();
    Path retiredFile = retiredKeysFile(file);
    try {
      if (!Files.exists(file)) {
        throw new IllegalStateException(
            "AUDIT_SIGNING_KEY_FILE "
                + file
                + " does not exist: there is no key to rotate (the broker creates one on its first"
                + " start)");
      }
      Ed25519KeyPair old = parse(file, Files.readString(file, StandardCharsets.US_ASCII));
      retire(retiredFile, old.publicKey());
      Ed25519KeyPair fresh = Ed25519KeyPair.generate();
      Path temp = Files.createTempFile(file.getParent(), ".audit-key-", ".tmp", ownerOnly(file));
      try {
        writeSynced(temp, fresh.toPem(), StandardOpenOption.WRITE);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(temp);
      }
      LOG.atWarn()
          .setMessage(
              "audit signing key rotated; the old public key stays published"
                  + " (GET /v1/audit/public-keys)")
          .addKeyValue("file", file)
          .addKeyValue("retiredPublicKeySha256", old.publicKey().fingerprint())
          .addKeyValue("publicKeySha256", fresh.publicKey().fingerprint())
          .log();
      return new Rotation(old.publicKey(), fresh.publicKey(), retiredFile);
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot rotate AUDIT_SIGNING_KEY_FILE " + file + ": " + e.getMessage(), e);
    }
  }

  private static void retire(Path retiredFile, Ed25519PublicKey key) throws IOException {
    if (readRetired(retiredFile).contains(key)) {
      return;
    }
    String block =
        "# retired "
            + Instant.now()
            + ", sha256 "
            + key.fingerprint()
            + System.lineSeparator()
            + key.pem();
    if (!Files.exists(retiredFile)) {
      boolean posix = retiredFile.getFileSystem().supportedFileAttributeViews().contains("posix");
      try {
        Files.createFile(
            retiredFile,
            posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PUBLIC_READ)}
                : new FileAttribute<?>[0]);
      } catch (FileAlreadyExistsException raced) {
        // another rotation created it first: append to theirs
      }
    }
    writeSynced(retiredFile, block, StandardOpenOption.APPEND);
  }

  private static void writeSynced(Path file, String text, StandardOpenOption mode)
      throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, mode)) {
      channel.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
      channel.force(true);
    }
  }

  private static List<Ed25519PublicKey> readRetired(Path retiredFile) {
    if (!Files.exists(retiredFile)) {
      return List.of();
    }
    try {
      return Ed25519PublicKey.allFromPem(Files.readString(retiredFile, StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new IllegalStateException(
          "the retired audit keys " + retiredFile + " cannot be read: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "the retired audit keys " + retiredFile + " are not usable: " + e.getMessage(), e);
    }
  }

  /** The key now in the file: re-read, and reloaded when its text changed. */
  private Loaded current() throws IOException {
    String pem = Files.readString(keyFile, StandardCharsets.US_ASCII);
    Loaded last = loaded;
    if (pem.equals(last.pem())) {
      return last;
    }
    Loaded fresh = new Loaded(pem, parse(keyFile, pem));
    warnIfExposed(keyFile);
    loaded = fresh;
    LOG.atInfo()
        .setMessage("audit checkpoints are now signed with the new key in the key file")
        .addKeyValue("file", keyFile)
        .addKeyValue("previousPublicKeySha256", last.key().publicKey().fingerprint())
        .addKeyValue("publicKeySha256", fresh.key().publicKey().fingerprint())
        .log();
    return fresh;
  }

  private static Ed25519KeyPair parse(Path file, String pem) {
    try {
      return Ed25519KeyPair.fromPem(pem);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "AUDIT_SIGNING_KEY_FILE " + file + " is not usable: " + e.getMessage());
    }
  }

  private static Loaded loadOrCreate(Path file) {
    try {
      if (!Files.exists(file)) {
        try {
          return create(file);
        } catch (FileAlreadyExistsException raced) {
          // another broker process on the same data directory created it first: use theirs
          LOG.atDebug().setMessage("audit signing key created concurrently").log();
        }
      }
      warnIfExposed(file);
      String pem = Files.readString(file, StandardCharsets.US_ASCII);
      Ed25519KeyPair key = parse(file, pem);
      LOG.atInfo()
          .setMessage("audit checkpoints are signed with the key file")
          .addKeyValue("file", file)
          .addKeyValue("publicKeySha256", key.publicKey().fingerprint())
          .log();
      return new Loaded(pem, key);
    } catch (IOException e) {
      throw new IllegalStateException(
          "AUDIT_SIGNING_KEY_FILE " + file + " cannot be read or created: " + e.getMessage(), e);
    }
  }

  private static Loaded create(Path file) throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    Ed25519KeyPair key = Ed25519KeyPair.generate();
    String pem = key.toPem();
    Files.createFile(file, ownerOnly(file));
    try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE)) {
      out.write(pem.getBytes(StandardCharsets.US_ASCII));
    } catch (IOException | UncheckedIOException e) {
      Files.deleteIfExists(file);
      throw e;
    }
    LOG.atWarn()
        .setMessage(
            "generated a new audit signing key; back it up and publish its public key"
                + " (GET /v1/audit/public-keys) where auditors keep their exports")
        .addKeyValue("file", file)
        .addKeyValue("publicKeySha256", key.publicKey().fingerprint())
        .log();
    return new Loaded(pem, key);
  }

  private static FileAttribute<?>[] ownerOnly(Path file) {
    boolean posix = file.getFileSystem().supportedFileAttributeViews().contains("posix");
    return posix
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
        : new FileAttribute<?>[0];
  }

  private static void warnIfExposed(Path file) throws IOException {
    if (!file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return;
    }
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
    if (!OWNER_ONLY.containsAll(permissions)) {
      LOG.atWarn()
          .setMessage("the audit signing key file is readable by others; chmod 600 it")
          .addKeyValue("file", file)
          .addKeyValue("permissions", PosixFilePermissions.toString(permissions))
          .log();
    }
  }
}

package io.refundbroker.audit.signing;

import io.refundbroker.audit.CheckpointSigner;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs checkpoints with an Ed25519 key kept in a PEM file outside the database ({@code
 * AUDIT_SIGNING_KEY_FILE}; the {@code local} credentials backend). On first start the key is
 * generated and written with permissions {@code 0600}. File access and signing run on the given
 * bounded worker executor, never on an event loop.
 */
public final class LocalKeyFileSigner implements CheckpointSigner {
  private static final Logger LOG = LoggerFactory.getLogger(LocalKeyFileSigner.class);
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  private final Ed25519KeyPair key;
  private final WorkerExecutor worker;
  private final String keyId;

  private LocalKeyFileSigner(Ed25519KeyPair key, WorkerExecutor worker) {
    this.key = key;
    this.worker = worker;
    this.keyId = "local:" + key.publicKey().fingerprint().substring(0, 32);
  }

  /**
   * Loads the key from {@code keyFile}, creating it (and its directory) on first use.
   *
   * @return the signer; fails with an {@link IllegalStateException} naming the file when it cannot
   *     be read, created or parsed
   */
  public static Future<LocalKeyFileSigner> open(Path keyFile, WorkerExecutor worker) {
    return worker.executeBlocking(
        () -> new LocalKeyFileSigner(loadOrCreate(keyFile), worker), false);
  }

  @Override
  public String keyId() {
    return keyId;
  }

  @Override
  public Future<byte[]> sign(byte[] message) {
    byte[] copy = message.clone();
    return worker.executeBlocking(() -> key.sign(copy), false);
  }

  @Override
  public Future<String> publicKeyPem() {
    return Future.succeededFuture(key.publicKey().pem());
  }

  /** The public half (for the verifier and for publishing). */
  public Ed25519PublicKey publicKey() {
    return key.publicKey();
  }

  private static Ed25519KeyPair loadOrCreate(Path keyFile) {
    Path file = keyFile.toAbsolutePath();
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
      Ed25519KeyPair key;
      try {
        key = Ed25519KeyPair.fromPem(pem);
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException(
            "AUDIT_SIGNING_KEY_FILE " + file + " is not usable: " + e.getMessage());
      }
      LOG.atInfo()
          .setMessage("audit checkpoints are signed with the key file")
          .addKeyValue("file", file)
          .addKeyValue("publicKeySha256", key.publicKey().fingerprint())
          .log();
      return key;
    } catch (IOException e) {
      throw new IllegalStateException(
          "AUDIT_SIGNING_KEY_FILE " + file + " cannot be read or created: " + e.getMessage(), e);
    }
  }

  private static Ed25519KeyPair create(Path file) throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    Ed25519KeyPair key = Ed25519KeyPair.generate();
    boolean posix = file.getFileSystem().supportedFileAttributeViews().contains("posix");
    FileAttribute<?>[] attributes =
        posix
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
            : new FileAttribute<?>[0];
    Files.createFile(file, attributes);
    try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE)) {
      out.write(key.toPem().getBytes(StandardCharsets.US_ASCII));
    } catch (IOException | UncheckedIOException e) {
      Files.deleteIfExists(file);
      throw e;
    }
    LOG.atWarn()
        .setMessage(
            "generated a new audit signing key; back it up and publish its public key"
                + " (GET /v1/audit/public-key) where auditors keep their exports")
        .addKeyValue("file", file)
        .addKeyValue("publicKeySha256", key.publicKey().fingerprint())
        .log();
    return key;
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

package io.refundbroker.app;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.CopyOptions;
import io.vertx.core.file.FileSystem;
import java.nio.file.Path;

/**
 * Where a generated admin token goes: a file readable by the broker's user only ({@code 0600}) in
 * the data directory, never standard output (which ends up in journals and CI logs). The operator
 * reads it once, keeps the token in a secret manager and deletes the file.
 */
final class AdminTokenFile {
  static final String NAME = "admin-token";
  private static final String OWNER_ONLY = "rw-------";

  private AdminTokenFile() {}

  /** The file a generated admin token is written to. */
  static Path path(Path dataDir) {
    return dataDir.resolve(NAME).toAbsolutePath();
  }

  /**
   * Writes {@code token} (and a newline) to {@link #path}: created 0600 under a temporary name,
   * then moved over any older file, so the token is never readable by others, not even briefly.
   *
   * @return fails when the data directory cannot be created or written
   */
  static Future<Void> write(Vertx vertx, Path dataDir, String token) {
    FileSystem fs = vertx.fileSystem();
    Path target = path(dataDir);
    String temporary = target + ".tmp";
    return fs.mkdirs(target.getParent().toString())
        .compose(made -> fs.exists(temporary))
        .compose(stale -> stale ? fs.delete(temporary) : Future.succeededFuture())
        .compose(clean -> fs.createFile(temporary, OWNER_ONLY))
        .compose(created -> fs.writeFile(temporary, Buffer.buffer(token + "\n")))
        .compose(
            written ->
                fs.move(
                    temporary,
                    target.toString(),
                    new CopyOptions().setReplaceExisting(true).setAtomicMove(true)));
  }
}

package io.refundbroker.audit.signing;

import io.vertx.core.Future;
import java.util.List;

/**
 * Signs audit checkpoints with an Ed25519 key the database never holds: a key file with the local
 * backend, a Vault Transit key with the Vault backend. Keys are versioned (Transit rotates, a key
 * file is replaced by {@code audit rotate-key}); every signature says which version made it, and
 * the signer can still show the public half of every version it ever signed with, so a rotation
 * never breaks verification.
 */
public interface CheckpointSigner {

  /**
   * The signing key's stable name ({@code vault-transit:<key>}, {@code local}); its versions are
   * told apart by {@link CheckpointSignature#keyVersion()}.
   */
  String keyId();

  /**
   * Signs {@code message} with Ed25519, with the key's current version.
   *
   * @return the 64-byte signature and the key version that made it; fails when the key is
   *     unavailable
   */
  Future<CheckpointSignature> sign(byte[] message);

  /**
   * The public half of every version of the key this signer knows, oldest first, the current
   * version last.
   *
   * @return never empty; fails when the keys cannot be read (Vault unreachable, file unreadable)
   */
  Future<List<CheckpointKey>> publicKeys();

  /** The public half of the current version (the last of {@link #publicKeys()}). */
  default Future<CheckpointKey> currentKey() {
    return publicKeys().map(keys -> keys.get(keys.size() - 1));
  }
}

package io.refundbroker.audit;

import io.vertx.core.Future;

/**
 * Signs audit checkpoints with an Ed25519 key the database never holds: a key file with the local
 * backend, a Vault Transit key with the Vault backend.
 */
public interface CheckpointSigner {

  /** A stable identifier of the signing key (e.g. its fingerprint or {@code transit:<key>:v1}). */
  String keyId();

  /**
   * Signs {@code message} with Ed25519.
   *
   * @return the 64-byte signature; fails when the key is unavailable
   */
  Future<byte[]> sign(byte[] message);

  /** The public key as a PEM {@code PUBLIC KEY} (SubjectPublicKeyInfo) block. */
  Future<String> publicKeyPem();
}

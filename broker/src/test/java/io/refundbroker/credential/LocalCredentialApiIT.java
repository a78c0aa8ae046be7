package io.refundbroker.credential;

import io.refundbroker.testing.CredentialBackendKind;

/** The credential workflow against the local envelope-encrypted backend. */
class LocalCredentialApiIT extends CredentialApiContract {
  @Override
  CredentialBackendKind backend() {
    return CredentialBackendKind.LOCAL;
  }
}

package io.refundbroker.vipps;

import io.refundbroker.config.Secret;
import java.time.Instant;

/**
 * A Vipps access token of one sales unit.
 *
 * @param value the bearer token (a {@link Secret}: never printed)
 * @param expiresAt when Vipps stops accepting it
 * @param refreshAt when the broker fetches a new one instead ({@code VIPPS_TOKEN_REFRESH_MARGIN}
 *     before expiry, at most half the token's lifetime)
 */
record AccessToken(Secret value, Instant expiresAt, Instant refreshAt) {}
